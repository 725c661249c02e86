/* Layout and mapping of the shared region (see shm.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "shm.h"

static size_t align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

int rs_shm_create(struct rs_shm *shm, unsigned nworkers, uint32_t jobcap, uint32_t rescap,
		  uint32_t nleases, uint32_t svccap)
{
	size_t off_ctl = 0;
	size_t off_jobs = align64(off_ctl + sizeof(struct rs_ctl));
	size_t off_w = align64(off_jobs + rs_jobring_size(jobcap));
	size_t off_lease = align64(off_w + nworkers * sizeof(struct rs_wshared));
	size_t off_res = align64(off_lease + (size_t)nworkers * nleases * sizeof(struct rs_lease));
	size_t res_sz = align64(rs_resring_size(rescap));
	size_t off_svc = off_res + nworkers * res_sz;
	size_t svc_sz = svccap ? align64(rs_svcring_size(svccap)) : 0;
	size_t len = off_svc + nworkers * svc_sz;
	char *base;

	memset(shm, 0, sizeof(*shm));
	shm->res = calloc(nworkers, sizeof(*shm->res));
	shm->svc = calloc(nworkers, sizeof(*shm->svc));
	if (!shm->res || !shm->svc) {
		free(shm->res);
		free(shm->svc);
		return -ENOMEM;
	}
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		int err = -errno;
		free(shm->res);
		free(shm->svc);
		shm->res = NULL;
		shm->svc = NULL;
		return err;
	}
	shm->base = base;
	shm->len = len;
	shm->nworkers = nworkers;
	shm->ctl = (struct rs_ctl *)(base + off_ctl);
	shm->jobs = (struct rs_jobring *)(base + off_jobs);
	shm->w = (struct rs_wshared *)(base + off_w);
	shm->leases = (struct rs_lease *)(base + off_lease);
	shm->nleases = nleases;
	rs_jobring_init(shm->jobs, jobcap);
	for (unsigned i = 0; i < nworkers; i++) {
		shm->res[i] = (struct rs_resring *)(base + off_res + i * res_sz);
		rs_resring_init(shm->res[i], rescap);
		if (svccap) {
			shm->svc[i] = (struct rs_svcring *)(base + off_svc + i * svc_sz);
			rs_svcring_init(shm->svc[i], svccap);
		}
	}
	return 0;
}

void rs_shm_destroy(struct rs_shm *shm)
{
	if (shm->base)
		munmap(shm->base, shm->len);
	free(shm->res);
	free(shm->svc);
	memset(shm, 0, sizeof(*shm));
}
