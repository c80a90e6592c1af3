// firstpaint: start a GUI program and time it to its first painted window and to its window's final
// content, from outside the program (no instrumentation in the program).
//
//   firstpaint [-t TIMEOUT_MS] [-i INTERVAL_MS] [-s SETTLE_MS] [-e TOLERANCE_PCT] [-o DIR] -- PROGRAM [ARGS...]
//
// Used by scripts/bench. It opens the X display (DISPLAY) first, takes a CLOCK_MONOTONIC time, forks
// and execs PROGRAM in a new process group (pgid = its pid; its stdout goes to our stderr), then
// polls every INTERVAL_MS (default 10):
//   1. mapped: a top-level window whose _NET_WM_PID is the program's pid is viewable (IsViewable);
//   2. first paint: a grab of that window (XGetImage of the whole window) holds more than one pixel
//      value. A freshly mapped GTK window is one flat background colour; a page drawn by the web view
//      (text, borders, inputs) is not.
//   3. visually complete: it keeps grabbing for SETTLE_MS (default 3000) after first paint, noting
//      every grab that differs from the one before. The last grab is the final content; visually
//      complete is the earliest noted change whose frame differs from the final one in at most
//      TOLERANCE_PCT of the pixels (default 0.05: a text caret, not a changed label).
// Each time is when the grab that first showed the state ended; *_lo_ms is when the poll before it
// started: the event happened between the two.
// Then it prints one line of key=value pairs, writes DIR/first-paint.ppm, DIR/complete.ppm and
// DIR/final.ppm when -o is given, and waits for the program (which it leaves running: the caller
// measures it and kills its process group), exiting 0 when it is gone:
//   pid= win= map_ms= paint_ms= paint_lo_ms= complete_ms= complete_lo_ms= changes= first_vs_final_pct=
//   grab_ms= grab_mean_ms= polls= colors= size=WxH
// On timeout (no first paint in TIMEOUT_MS, default 30000) or if the program exits early, it kills
// the program's process group and exits non-zero with a message on stderr.
// Build: cc -O2 -o firstpaint firstpaint.c -lX11
#define _GNU_SOURCE
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHANGES 200

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(double ms) {
    if (ms <= 0) return;
    struct timespec ts;
    ts.tv_sec = (time_t)(ms / 1e3);
    ts.tv_nsec = (long)((ms - ts.tv_sec * 1e3) * 1e6);
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

// Windows can vanish between listing and grabbing them: note X errors instead of exiting.
static int x_error_seen = 0;
static int on_x_error(Display *d, XErrorEvent *e) {
    (void)d;
    (void)e;
    x_error_seen = 1;
    return 0;
}

static pid_t child = -1;

static void kill_group(void) {
    if (child <= 0) return;
    kill(-child, SIGTERM);
    for (int i = 0; i < 40; i++) {  // up to 2 s for a clean exit, then SIGKILL
        if (waitpid(child, NULL, WNOHANG) == child) break;
        sleep_ms(50);
    }
    kill(-child, SIGKILL);
    waitpid(child, NULL, WNOHANG);
}

static long window_pid(Display *d, Window w, Atom net_wm_pid) {
    Atom type;
    int format;
    unsigned long n, after;
    unsigned char *data = NULL;
    long pid = -1;
    if (XGetWindowProperty(d, w, net_wm_pid, 0, 1, False, XA_CARDINAL, &type, &format, &n, &after,
                           &data) == Success &&
        data) {
        if (type == XA_CARDINAL && format == 32 && n == 1) pid = (long)*(unsigned long *)data;
        XFree(data);
    }
    return pid;
}

// The largest viewable top-level window that belongs to pid, or None.
static Window find_window(Display *d, Atom net_wm_pid, pid_t pid) {
    Window root_ret, parent, *kids = NULL, best = None;
    unsigned int n = 0;
    long best_area = 0;
    if (!XQueryTree(d, DefaultRootWindow(d), &root_ret, &parent, &kids, &n)) return None;
    for (unsigned int i = 0; i < n; i++) {
        if (window_pid(d, kids[i], net_wm_pid) != pid) continue;
        XWindowAttributes a;
        if (!XGetWindowAttributes(d, kids[i], &a) || a.map_state != IsViewable) continue;
        long area = (long)a.width * a.height;
        if (area > 1 && area > best_area) {
            best = kids[i];
            best_area = area;
        }
    }
    if (kids) XFree(kids);
    return best;
}

// A grabbed window content as 0xRRGGBB pixels.
typedef struct {
    int w, h;
    uint32_t *px;
    double t, t_lo;  // end of the grab that showed it; start of the poll before
} Frame;

static int mask_shift(unsigned long m) {
    int s = 0;
    if (!m) return 0;
    while (!(m & 1)) {
        m >>= 1;
        s++;
    }
    return s;
}

static uint32_t *to_rgb(XImage *img) {
    uint32_t *px = malloc((size_t)img->width * img->height * 4);
    if (!px) {
        fprintf(stderr, "firstpaint: out of memory\n");
        exit(2);
    }
    if (img->bits_per_pixel == 32 && img->red_mask == 0xff0000 && img->green_mask == 0xff00 &&
        img->blue_mask == 0xff && img->byte_order == LSBFirst) {
        for (int y = 0; y < img->height; y++) {
            const uint32_t *row = (const uint32_t *)(img->data + (size_t)y * img->bytes_per_line);
            for (int x = 0; x < img->width; x++) px[(size_t)y * img->width + x] = row[x] & 0xffffff;
        }
        return px;
    }
    int rs = mask_shift(img->red_mask), gs = mask_shift(img->green_mask), bs = mask_shift(img->blue_mask);
    unsigned long rm = img->red_mask >> rs, gm = img->green_mask >> gs, bm = img->blue_mask >> bs;
    for (int y = 0; y < img->height; y++) {
        for (int x = 0; x < img->width; x++) {
            unsigned long p = XGetPixel(img, x, y);
            uint32_t r = rm ? ((p >> rs) & rm) * 255 / rm : 0, g = gm ? ((p >> gs) & gm) * 255 / gm : 0,
                     b = bm ? ((p >> bs) & bm) * 255 / bm : 0;
            px[(size_t)y * img->width + x] = r << 16 | g << 8 | b;
        }
    }
    return px;
}

// Number of distinct pixel values, counted up to `cap` (<= 64).
static int count_colors(const Frame *f, int cap) {
    uint32_t seen[64];
    int n = 0;
    size_t total = (size_t)f->w * f->h;
    for (size_t i = 0; i < total; i++) {
        uint32_t p = f->px[i];
        if (n > 0 && p == seen[0]) continue;  // the common case: background
        int known = 0;
        for (int k = 0; k < n; k++)
            if (seen[k] == p) {
                known = 1;
                break;
            }
        if (!known) {
            seen[n++] = p;
            if (n >= cap) return n;
        }
    }
    return n;
}

static int same_frame(const Frame *a, const Frame *b) {
    return a->w == b->w && a->h == b->h && memcmp(a->px, b->px, (size_t)a->w * a->h * 4) == 0;
}

// Percentage of pixels that differ (100 when the sizes differ).
static double diff_pct(const Frame *a, const Frame *b) {
    if (a->w != b->w || a->h != b->h) return 100.0;
    size_t total = (size_t)a->w * a->h, n = 0;
    for (size_t i = 0; i < total; i++) n += a->px[i] != b->px[i];
    return total ? 100.0 * n / total : 0.0;
}

static void write_ppm(const Frame *f, const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *out = fopen(path, "wb");
    if (!out) {
        fprintf(stderr, "firstpaint: cannot write %s: %s\n", path, strerror(errno));
        return;
    }
    fprintf(out, "P6\n%d %d\n255\n", f->w, f->h);
    size_t total = (size_t)f->w * f->h;
    for (size_t i = 0; i < total; i++) {
        unsigned char rgb[3] = {(unsigned char)(f->px[i] >> 16), (unsigned char)(f->px[i] >> 8),
                                (unsigned char)f->px[i]};
        fwrite(rgb, 1, 3, out);
    }
    fclose(out);
}

static void usage(void) {
    fprintf(stderr,
            "usage: firstpaint [-t TIMEOUT_MS] [-i INTERVAL_MS] [-s SETTLE_MS] [-e TOLERANCE_PCT] [-o DIR] "
            "-- PROGRAM [ARGS...]\n");
    exit(64);
}

int main(int argc, char **argv) {
    double timeout_ms = 30000, interval_ms = 10, settle_ms = 3000, tolerance_pct = 0.05;
    const char *out_dir = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "+t:i:s:e:o:")) != -1) {
        switch (opt) {
            case 't': timeout_ms = atof(optarg); break;
            case 'i': interval_ms = atof(optarg); break;
            case 's': settle_ms = atof(optarg); break;
            case 'e': tolerance_pct = atof(optarg); break;
            case 'o': out_dir = optarg; break;
            default: usage();
        }
    }
    if (optind >= argc || interval_ms <= 0) usage();

    Display *d = XOpenDisplay(NULL);
    if (!d) {
        fprintf(stderr, "firstpaint: cannot open X display '%s'\n", getenv("DISPLAY") ? getenv("DISPLAY") : "");
        return 2;
    }
    XSetErrorHandler(on_x_error);
    Atom net_wm_pid = XInternAtom(d, "_NET_WM_PID", False);
    fflush(stdout);

    // The wall clock too, for the app's own start-up log lines (scripts/bench subtracts it).
    struct timespec launch_wall;
    clock_gettime(CLOCK_REALTIME, &launch_wall);
    double t0 = now_ms();
    child = fork();
    if (child < 0) {
        perror("firstpaint: fork");
        return 2;
    }
    if (child == 0) {
        setpgid(0, 0);
        close(ConnectionNumber(d));
        dup2(STDERR_FILENO, STDOUT_FILENO);  // our stdout carries only the result line
        execvp(argv[optind], argv + optind);
        fprintf(stderr, "firstpaint: cannot run %s: %s\n", argv[optind], strerror(errno));
        _exit(127);
    }
    setpgid(child, child);  // also from the parent, so the group exists before we may kill it

    Window win = None;
    double map_ms = -1, prev_check_ms = 0, paint_ms = -1, grab_first_ms = 0, grab_sum = 0;
    long polls = 0, grabs = 0;
    int colors = 0;
    Frame changes[MAX_CHANGES];
    int n_changes = 0;
    Frame last = {0, 0, NULL, 0, 0};
    for (;;) {
        double t = now_ms() - t0;
        if (paint_ms < 0 && t > timeout_ms) {
            fprintf(stderr, "firstpaint: timeout after %.0f ms: %s\n", timeout_ms,
                    win == None ? "no viewable window with the program's _NET_WM_PID"
                                : "the window is mapped but still one flat colour (nothing painted)");
            kill_group();
            return 3;
        }
        if (paint_ms >= 0 && t > paint_ms + settle_ms) break;
        int status;
        if (waitpid(child, &status, WNOHANG) == child) {
            fprintf(stderr, "firstpaint: the program exited %s (%s %d)\n",
                    paint_ms < 0 ? "before painting" : "while its window was watched",
                    WIFEXITED(status) ? "exit status" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
            kill(-child, SIGKILL);  // WebKit helpers left in its group
            return 4;
        }
        polls++;
        double check_start = now_ms() - t0;
        if (win == None) {
            x_error_seen = 0;
            win = find_window(d, net_wm_pid, child);
            if (win != None && map_ms < 0) map_ms = now_ms() - t0;
        }
        if (win != None) {
            XWindowAttributes a;
            x_error_seen = 0;
            if (!XGetWindowAttributes(d, win, &a) || x_error_seen || a.map_state != IsViewable) {
                win = None;  // gone or unmapped again: look for it anew
            } else {
                XImage *img = XGetImage(d, win, 0, 0, a.width, a.height, AllPlanes, ZPixmap);
                if (img && !x_error_seen) {
                    Frame f = {img->width, img->height, to_rgb(img), 0, prev_check_ms};
                    XDestroyImage(img);
                    f.t = now_ms() - t0;
                    grabs++;
                    grab_sum += f.t - check_start;
                    if (paint_ms < 0) {
                        colors = count_colors(&f, 64);
                        if (colors > 1) {
                            paint_ms = f.t;
                            grab_first_ms = f.t - check_start;
                            changes[n_changes++] = f;
                            last = f;
                            f.px = NULL;
                        }
                    } else if (!same_frame(&f, &last)) {
                        if (n_changes < MAX_CHANGES) {
                            changes[n_changes++] = f;
                        } else {
                            free(last.px == changes[n_changes - 1].px ? NULL : last.px);
                        }
                        last = f;
                        f.px = NULL;
                    }
                    free(f.px);
                } else if (img) {
                    XDestroyImage(img);
                }
            }
        }
        prev_check_ms = check_start;
        double next = check_start + interval_ms;
        sleep_ms(next - (now_ms() - t0));
    }

    // Visually complete: the earliest change whose frame is (nearly) the final content.
    int complete = n_changes - 1;
    for (int i = 0; i < n_changes; i++) {
        if (diff_pct(&changes[i], &last) <= tolerance_pct) {
            complete = i;
            break;
        }
    }
    printf("pid=%d win=0x%lx map_ms=%.1f paint_ms=%.1f paint_lo_ms=%.1f complete_ms=%.1f complete_lo_ms=%.1f "
           "changes=%d%s first_vs_final_pct=%.2f grab_ms=%.1f grab_mean_ms=%.1f polls=%ld colors=%d%s "
           "size=%dx%d launch_unix_us=%lld\n",
           (int)child, (unsigned long)win, map_ms, changes[0].t, changes[0].t_lo, changes[complete].t,
           changes[complete].t_lo, n_changes - 1, n_changes >= MAX_CHANGES ? "+" : "",
           diff_pct(&changes[0], &last), grab_first_ms, grabs ? grab_sum / grabs : 0, polls, colors,
           colors >= 64 ? "+" : "", changes[0].w, changes[0].h,
           (long long)launch_wall.tv_sec * 1000000LL + launch_wall.tv_nsec / 1000);
    fflush(stdout);
    if (out_dir) {
        write_ppm(&changes[0], out_dir, "first-paint.ppm");
        write_ppm(&changes[complete], out_dir, "complete.ppm");
        write_ppm(&last, out_dir, "final.ppm");
    }
    XCloseDisplay(d);
    // Stay the program's parent until the caller kills it, so it is reaped.
    while (waitpid(child, NULL, 0) == -1 && errno == EINTR) {
    }
    return 0;
}
