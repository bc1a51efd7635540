/* util.c - output helpers shared by the CLI commands: one-line path escaping
 * (text and JSON), error messages on stderr, the TTY progress bar, the
 * admin password prompt. Owns the bar's
 * line state on stderr and, during a prompt, the terminal's echo setting
 * (restored on every exit path, signals included); any command may call. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "hmilock.h"
#include "wl.h"

/* Length of the valid UTF-8 sequence starting at s (1..4), or 0 when the
 * bytes there are not valid UTF-8 (overlong forms, surrogates and code
 * points above U+10FFFF count as invalid). */
static size_t util_utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	return n;
}

/* Escape path into out (NUL-terminated). Returns the length written; with
 * out == NULL only counts. Sets *changed when any byte was escaped. */
static size_t util_escape(const char *path, char *out, bool *changed)
{
	const unsigned char *s = (const unsigned char *)path;
	size_t len = 0, n;
	char tmp[5];

	while (*s) {
		n = util_utf8_len(s);
		if (n == 1 && *s >= 0x20 && *s != 0x7f && *s != '\\') {
			tmp[0] = (char)*s, tmp[1] = '\0';
		} else if (n > 1) {
			memcpy(tmp, s, n);
			tmp[n] = '\0';
		} else {
			n = 1;
			if (*s == '\n')
				strcpy(tmp, "\\n");
			else if (*s == '\t')
				strcpy(tmp, "\\t");
			else if (*s == '\\')
				strcpy(tmp, "\\\\");
			else
				snprintf(tmp, sizeof(tmp), "\\x%02x", *s);
			if (changed)
				*changed = true;
		}
		if (out)
			memcpy(out + len, tmp, strlen(tmp));
		len += strlen(tmp);
		s += n;
	}
	if (out)
		out[len] = '\0';
	return len;
}

void util_print_path(FILE *f, const char *path)
{
	char stackbuf[1024], *buf = stackbuf;
	size_t len = util_escape(path, NULL, NULL);

	if (len >= sizeof(stackbuf)) {
		buf = malloc(len + 1);
		if (!buf) {
			/* Out of memory: fall back to byte-wise \xHH, still one line. */
			for (; *path; path++)
				fprintf(f, "\\x%02x", (unsigned char)*path);
			return;
		}
	}
	util_escape(path, buf, NULL);
	fputs(buf, f);
	if (buf != stackbuf)
		free(buf);
}

char *util_json_path(const char *path, bool *escaped)
{
	const unsigned char *s = (const unsigned char *)path;
	bool esc = false;
	char *out;

	/* Valid UTF-8 goes out exactly as it is (json-c escapes control
	 * characters itself); anything else in the text output's escaped form. */
	while (*s) {
		size_t n = util_utf8_len(s);
		if (!n) {
			esc = true;
			break;
		}
		s += n;
	}
	*escaped = esc;
	if (!esc)
		return strdup(path);
	out = malloc(util_escape(path, NULL, NULL) + 1);
	if (out)
		util_escape(path, out, NULL);
	return out;
}

const char *util_prog = "hmilock"; /* the program messages are from */

void util_err(const char *fmt, ...)
{
	va_list ap;

	util_bar_end();
	fprintf(stderr, "%s: ", util_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- usage errors ---------------------------------------------------------- */

int util_usage(const char *usage, const char *fmt, ...)
{
	va_list ap;

	util_bar_end();
	if (fmt) {
		fputs("hmilock: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fprintf(stderr, "usage: %s\n(global options go before the command; see hmilock --help)\n",
	        usage);
	return EXIT_USAGE;
}

int util_help(const char *usage)
{
	printf("usage: %s\n", usage);
	return EXIT_OK;
}

/* ---- progress bar ------------------------------------------------------ */

static bool util_bar_shown; /* a bar line is on stderr, not yet ended */

static unsigned util_term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

static void util_fmt_eta(char *buf, size_t len, double secs)
{
	unsigned long s;

	if (secs < 0 || secs > 99 * 3600.0) {
		snprintf(buf, len, "--:--");
		return;
	}
	s = (unsigned long)(secs + 0.5);
	if (s >= 3600)
		snprintf(buf, len, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%02lu:%02lu", s / 60, s % 60);
}

void util_bar(uint64_t done, uint64_t total, uint64_t bytes_done, uint64_t bytes_total,
              double elapsed)
{
	char text[128], eta[32], bar[256];
	double mbs = elapsed > 0 ? bytes_done / 1e6 / elapsed : 0, frac, rate;
	unsigned width, fill, i;
	int tlen;

	frac = bytes_total ? (double)bytes_done / bytes_total : (total ? (double)done / total : 0);
	if (frac > 1)
		frac = 1;
	rate = elapsed > 0 ? frac / elapsed : 0;
	util_fmt_eta(eta, sizeof(eta), rate > 0 ? (1 - frac) / rate : -1);
	tlen = snprintf(text, sizeof(text), " %llu/%llu files  %.1f MB/s  ETA %s",
	                (unsigned long long)done, (unsigned long long)total, mbs, eta);
	width = util_term_width() - 1;
	width = width > sizeof(bar) - 1 ? sizeof(bar) - 1 : width;
	width = (int)width > tlen + 12 ? width - (unsigned)tlen - 7 : 5;
	fill = (unsigned)(frac * width);
	for (i = 0; i < width; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[width] = '\0';
	fprintf(stderr, "\r[%s] %3u%%%s\033[K", bar, (unsigned)(frac * 100), text);
	fflush(stderr);
	util_bar_shown = true;
}

void util_bar_end(void)
{
	if (!util_bar_shown)
		return;
	fputc('\n', stderr);
	util_bar_shown = false;
}

void util_scan_progress(const struct wl_scan_progress *p, void *arg)
{
	(void)arg;
	util_bar(p->files_done, p->files_total, p->bytes_done, p->bytes_total, p->elapsed);
}

/* ---- passwords ----------------------------------------------------------- */

static struct termios util_tio_saved;
static volatile sig_atomic_t util_tio_active;

/* SIGINT/SIGTERM/SIGHUP during a prompt: echo back on, then die of it. */
static void util_tio_signal(int sig)
{
	if (util_tio_active)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &util_tio_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* One line from fd, byte by byte (nothing read beyond it stays buffered).
 * 0, -ENODATA (EOF before any byte), -EMSGSIZE (longer than len - 1). */
static int util_read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	bool over = false, any = false;
	ssize_t r;
	char c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0 || c == '\n')
			break;
		any = true;
		if (n + 1 < len)
			buf[n++] = c;
		else
			over = true;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (over) {
		explicit_bzero(buf, len);
		return -EMSGSIZE;
	}
	return any || r > 0 ? 0 : -ENODATA;
}

int util_read_password(const char *prompt, char *buf, size_t len)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	struct sigaction sa = {.sa_handler = util_tio_signal}, old[4];
	struct termios t;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &util_tio_saved) == 0;
	size_t i;
	int rc;

	if (!tty)
		return util_read_line(STDIN_FILENO, buf, len); /* scripts, tests */
	for (i = 0; i < 4; i++)
		sigaction(sigs[i], &sa, &old[i]);
	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	t = util_tio_saved;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	t.c_lflag |= ECHONL;
	util_tio_active = 1;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
	rc = util_read_line(STDIN_FILENO, buf, len);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &util_tio_saved);
	util_tio_active = 0;
	for (i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
	return rc;
}

/* First line of file (a --password-file), mode-checked like a key. */
static int util_password_file(const char *file, char *buf, size_t len)
{
	struct wl_err err = {0};

	if (wl_passwd_read_file(file, buf, len, &err) < 0) {
		util_err("--password-file %s", err.msg);
		return EXIT_USAGE;
	}
	return 0;
}

int util_get_password(const char *file, const char *prompt, char *buf, size_t len)
{
	const char *env = getenv("HMILOCK_PASSWORD");
	int rc;

	if (file)
		return util_password_file(file, buf, len);
	if (env) {
		if (strlen(env) >= len || !env[0]) {
			util_err("HMILOCK_PASSWORD: %s",
			         env[0] ? "longer than 127 bytes" : "empty");
			return EXIT_USAGE;
		}
		memcpy(buf, env, strlen(env) + 1);
		return 0;
	}
	rc = util_read_password(prompt, buf, len);
	if (rc == 0 && buf[0])
		return 0;
	util_err("no admin password given%s",
	         rc == -EMSGSIZE ? " (longer than 127 bytes)"
	         : isatty(STDIN_FILENO)
	             ? ""
	             : " (standard input is not a terminal: give it on standard input, in "
	               "HMILOCK_PASSWORD or with --password-file)");
	return EXIT_USAGE;
}
