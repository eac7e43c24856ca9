/* Splitting a large --count over worker processes.
 *
 * libmosquitto 2.0.11 keeps three descriptors per client (its socket and a wake-up socket
 * pair that only its threaded mode needs; MOSQ_OPT_DISABLE_SOCKETPAIR, which drops the pair,
 * came with 2.0.16). A process may hold RLIMIT_NOFILE descriptors, and where the hard limit
 * cannot be raised (containers) that caps the devices one process can run. Beyond it the
 * devices are split into contiguous slices, one forked worker each; the parent forwards
 * SIGINT/SIGTERM once to every worker and adds up the counters they report through pipes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mosquitto.h>

#include "sim.h"

#define FD_RESERVE 64u
#define OPT_DISABLE_SOCKETPAIR 14   /* MOSQ_OPT_DISABLE_SOCKETPAIR of libmosquitto >= 2.0.16 */

struct worker {
	pid_t pid;
	int fd;                 /* read end of its stats pipe, -1 once read */
	unsigned count;
	bool reported;
	struct sim_stats st;
};

bool sim_disable_socketpair(struct mosquitto *mosq)
{
	return mosquitto_int_option(mosq, (enum mosq_opt_t)OPT_DISABLE_SOCKETPAIR, 1) == MOSQ_ERR_SUCCESS;
}

unsigned workers_capacity(void)
{
	struct mosquitto *probe = mosquitto_new("lwm2m-sim-probe", true, NULL);
	unsigned per_client = probe && sim_disable_socketpair(probe) ? 1u : 3u;
	struct rlimit rl;

	mosquitto_destroy(probe);
	if(getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1000;
	if(rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)UINT32_MAX) return UINT32_MAX;
	if(rl.rlim_max <= FD_RESERVE + per_client) return 1;
	return (unsigned)((rl.rlim_max - FD_RESERVE) / per_client);
}

static void add_stats(struct sim_stats *to, const struct sim_stats *from)
{
	to->registered += from->registered;
	to->failed += from->failed;
	to->deregistered += from->deregistered;
	to->answered += from->answered;
	to->notifications += from->notifications;
	to->updates += from->updates;
	to->malformed += from->malformed;
	to->publish_errors += from->publish_errors;
	to->sends += from->sends;
	to->send_errors += from->send_errors;
	to->bootstrapped += from->bootstrapped;
}

/* In the child: run the slice, report, never return. */
static void child_main(struct sim_config cfg, unsigned first, unsigned count, int fd,
		workers_run_fn run)
{
	struct sim_stats st;
	ssize_t n;
	int rc;

	/* not in the terminal's process group: the parent alone forwards Ctrl-C, once */
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	cfg.first = first;
	cfg.count = count;
	memset(&st, 0, sizeof(st));
	rc = run(&cfg, &st);
	n = write(fd, &st, sizeof(st));
	close(fd);
	fflush(stdout);
	exit(rc == 0 && n == (ssize_t)sizeof(st) ? 0 : 1);   /* exit, not _exit: leak checks run */
}

static int start_workers(const struct sim_config *cfg, struct worker *w, size_t n, unsigned per,
		workers_run_fn run)
{
	unsigned first = 0;

	for(size_t i = 0; i < n; i++){
		int p[2];

		w[i].count = cfg->count - first < per ? cfg->count - first : per;
		if(pipe(p) != 0) return -1;
		fcntl(p[0], F_SETFD, FD_CLOEXEC);
		fflush(stdout);
		w[i].pid = fork();
		if(w[i].pid < 0){
			close(p[0]);
			close(p[1]);
			return -1;
		}
		if(w[i].pid == 0){
			close(p[0]);
			for(size_t j = 0; j < i; j++) close(w[j].fd);
			child_main(*cfg, first, w[i].count, p[1], run);
		}
		close(p[1]);
		w[i].fd = p[0];
		first += w[i].count;
	}
	return 0;
}

static void signal_all(const struct worker *w, size_t n, int sig)
{
	for(size_t i = 0; i < n; i++){
		if(w[i].pid > 0) kill(w[i].pid, sig);
	}
}

/* Wait for every report (or end of pipe), forwarding signals. */
static void collect(struct worker *w, size_t n, int sigfd)
{
	struct pollfd *pfd = calloc(n + 1, sizeof(*pfd));
	size_t open_pipes = n;

	if(!pfd) return;
	while(open_pipes){
		pfd[0].fd = sigfd;
		pfd[0].events = POLLIN;
		for(size_t i = 0; i < n; i++){
			pfd[i + 1].fd = w[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		if(poll(pfd, n + 1, -1) < 0){
			if(errno == EINTR) continue;
			break;
		}
		if(pfd[0].revents & POLLIN){
			struct signalfd_siginfo si;
			while(read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) signal_all(w, n, SIGTERM);
		}
		for(size_t i = 0; i < n; i++){
			if(w[i].fd < 0 || !(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
			w[i].reported = read(w[i].fd, &w[i].st, sizeof(w[i].st)) == (ssize_t)sizeof(w[i].st);
			close(w[i].fd);
			w[i].fd = -1;
			open_pipes--;
		}
	}
	free(pfd);
}

int workers_run(const struct sim_config *cfg, unsigned per, workers_run_fn run,
		struct sim_stats *total)
{
	size_t n = (cfg->count + per - 1) / per;
	struct worker *w = calloc(n, sizeof(*w));
	sigset_t mask;
	int sigfd, rc;

	if(!w) return -1;
	per = (unsigned)((cfg->count + n - 1) / n);   /* even slices */
	for(size_t i = 0; i < n; i++) w[i].fd = -1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigfd = sigprocmask(SIG_BLOCK, &mask, NULL) == 0 ? signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC) : -1;
	if(sigfd < 0){
		free(w);
		return -1;
	}
	if(cfg->verbose) printf("sim: %zu worker processes of up to %u devices\n", n, per);
	rc = start_workers(cfg, w, n, per, run);
	if(rc) signal_all(w, n, SIGTERM);
	collect(w, n, sigfd);
	for(size_t i = 0; i < n; i++){
		if(w[i].pid > 0) waitpid(w[i].pid, NULL, 0);
		if(w[i].reported){
			add_stats(total, &w[i].st);
		}else if(w[i].pid > 0){
			/* a worker that died without a report: its devices count as failed */
			fprintf(stderr, "sim: worker %d ended without a report\n", (int)w[i].pid);
			total->failed += w[i].count;
			rc = -1;
		}
		if(w[i].fd >= 0) close(w[i].fd);
	}
	close(sigfd);
	free(w);
	return rc;
}
