/* The output's checksum: CRC-64/XZ (the ECMA-182 polynomial, reflected,
 * initial value and final xor all ones) of every byte written to the
 * output, kept by the writer as it writes and recorded in each checkpoint
 * next to the length, so that a resumed scan can tell that the output is
 * still the one the checkpoint describes.
 *
 * The digest is the whole running state: rs_outsum(rs_outsum(0, a), b) ==
 * rs_outsum(0, ab), so a resumed run continues from the checkpoint's value.
 * The digest of nothing is 0. */
#ifndef RINGSCAN_OUTSUM_H
#define RINGSCAN_OUTSUM_H

#include <stddef.h>
#include <stdint.h>

/* The checksum of the bytes summed by sum, followed by buf[n]. */
uint64_t rs_outsum(uint64_t sum, const void *buf, size_t n);

/* The checksum of the first length bytes of the file at path, read once
 * in constant memory (0 without opening it when length is 0). Returns 0,
 * -ENODATA when the file holds fewer bytes, -EINVAL when it is not a
 * regular file, -ENOMEM or -errno from open or read. */
int rs_outsum_file(const char *path, uint64_t length, uint64_t *sum);

#endif
