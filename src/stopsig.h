/* SIGINT and SIGTERM, the signals that stop a scan gracefully, arrive on
 * a signalfd that the coordinator (and any wait of its output) polls. */
#ifndef RS_STOPSIG_H
#define RS_STOPSIG_H

/* Block SIGINT and SIGTERM and return a signalfd for them, or -1 when none
 * can be had (then they keep their default action). Workers unblock them. */
int rs_stopsig_open(void);

/* The stop signal waiting on fd, taken, or 0 (also for fd < 0). */
int rs_stopsig_take(int fd);

#endif
