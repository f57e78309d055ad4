/* The benchmark kernels of kernels.py in C, the same algorithm operation for
 * operation (same order of float operations, so results agree to the bit).
 * Built by cbuild.py with gcc -O2 -shared -fPIC, and again with
 * -fno-tree-vectorize for the array kernels.  Python's int is int64_t here;
 * every kernel keeps its values in range, as the Python versions do. */

#include <math.h>
#include <stdint.h>

typedef int64_t i64;

/* The call-overhead micro-benchmark's two-int add. */
i64 add(i64 a, i64 b) { return a + b; }

i64 fib(i64 n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static i64 gcd(i64 a, i64 b) {
    while (b != 0) {
        i64 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

i64 gcd_sum(i64 n) {
    i64 s = 0;
    for (i64 i = 1; i <= n; i++)
        for (i64 j = 1; j <= n; j++)
            s += gcd(i, j);
    return s;
}

i64 collatz_steps(i64 n) {
    i64 total = 0;
    for (i64 start = 1; start <= n; start++) {
        i64 x = start;
        while (x != 1) {
            x = x % 2 == 0 ? x / 2 : 3 * x + 1;
            total++;
        }
    }
    return total;
}

static i64 xorshift32(i64 x) {
    x ^= (x << 13) & 0xFFFFFFFF;
    x ^= x >> 17;
    x ^= (x << 5) & 0xFFFFFFFF;
    return x;
}

i64 xorshift_hash(i64 n) {
    i64 x = 2463534242, h = 0;
    for (i64 k = 0; k < n; k++) {
        x = xorshift32(x);
        h = (h * 31 + x) & 0xFFFFFFFF;
    }
    return h;
}

static i64 popcount(i64 x) {
    i64 c = 0;
    while (x != 0) {
        x &= x - 1;
        c++;
    }
    return c;
}

i64 popcount_sum(i64 n) {
    i64 s = 0;
    for (i64 i = 0; i < n; i++)
        s += popcount(i);
    return s;
}

static i64 escape_count(double cr, double ci, i64 max_iter) {
    double zr = 0.0, zi = 0.0;
    for (i64 k = 0; k < max_iter; k++) {
        double zr2 = zr * zr, zi2 = zi * zi;
        if (zr2 + zi2 > 4.0)
            return k;
        zi = 2.0 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
    }
    return max_iter;
}

i64 mandelbrot(i64 size) {
    i64 total = 0;
    for (i64 y = 0; y < size; y++) {
        double ci = -1.5 + 3.0 * y / size;
        for (i64 x = 0; x < size; x++) {
            double cr = -2.0 + 3.0 * x / size;
            total += escape_count(cr, ci, 100);
        }
    }
    return total;
}

double integrate_pi(i64 n) {
    double h = 1.0 / n, s = 0.0;
    for (i64 i = 0; i < n; i++) {
        double x = (i + 0.5) * h;
        s += 4.0 / (1.0 + x * x);
    }
    return s * h;
}

static double newton_sqrt(double v) {
    double x = v + 1.0, nx = 0.5 * (x + v / x);
    while (nx < x) {
        x = nx;
        nx = 0.5 * (x + v / x);
    }
    return x;
}

double newton_sum(i64 n) {
    double s = 0.0;
    for (i64 i = 1; i <= n; i++)
        s += newton_sqrt((double)i);
    return s;
}

i64 sieve(uint8_t *flags, i64 n) {
    i64 count = 0;
    for (i64 i = 2; i < n; i++) {
        if (flags[i] != 0) {
            count++;
            for (i64 j = i * i; j < n; j += i)
                flags[j] = 0;
        }
    }
    return count;
}

double dot(const double *a, const double *b, i64 n, i64 reps) {
    double s = 0.0;
    for (i64 r = 0; r < reps; r++)
        for (i64 i = 0; i < n; i++)
            s += a[i] * b[i];
    return s;
}

double matmul(const double *a, const double *b, double *c, i64 n) {
    double total = 0.0;
    for (i64 i = 0; i < n; i++)
        for (i64 j = 0; j < n; j++) {
            double s = 0.0;
            for (i64 k = 0; k < n; k++)
                s += a[i * n + k] * b[k * n + j];
            c[i * n + j] = s;
            total += s;
        }
    return total;
}

static double nbody_energy(const double *pos, const double *vel, const double *mass, i64 nb) {
    double e = 0.0;
    for (i64 i = 0; i < nb; i++) {
        double vx = vel[3 * i], vy = vel[3 * i + 1], vz = vel[3 * i + 2];
        e += 0.5 * mass[i] * (vx * vx + vy * vy + vz * vz);
        for (i64 j = i + 1; j < nb; j++) {
            double dx = pos[3 * i] - pos[3 * j];
            double dy = pos[3 * i + 1] - pos[3 * j + 1];
            double dz = pos[3 * i + 2] - pos[3 * j + 2];
            e -= mass[i] * mass[j] / sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static void nbody_advance(double *pos, double *vel, const double *mass, i64 nb, double dt) {
    for (i64 i = 0; i < nb; i++)
        for (i64 j = i + 1; j < nb; j++) {
            double dx = pos[3 * i] - pos[3 * j];
            double dy = pos[3 * i + 1] - pos[3 * j + 1];
            double dz = pos[3 * i + 2] - pos[3 * j + 2];
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * sqrt(d2));
            double bim = mass[i] * mag, bjm = mass[j] * mag;
            vel[3 * i] -= dx * bjm;
            vel[3 * i + 1] -= dy * bjm;
            vel[3 * i + 2] -= dz * bjm;
            vel[3 * j] += dx * bim;
            vel[3 * j + 1] += dy * bim;
            vel[3 * j + 2] += dz * bim;
        }
    for (i64 i = 0; i < nb; i++) {
        pos[3 * i] += dt * vel[3 * i];
        pos[3 * i + 1] += dt * vel[3 * i + 1];
        pos[3 * i + 2] += dt * vel[3 * i + 2];
    }
}

double nbody(double *pos, double *vel, const double *mass, i64 nb, i64 steps) {
    for (i64 s = 0; s < steps; s++)
        nbody_advance(pos, vel, mass, nb, 0.01);
    return nbody_energy(pos, vel, mass, nb);
}

static double eval_a(i64 i, i64 j) { return 1.0 / ((i + j) * (i + j + 1) / 2 + i + 1); }

static void times_a(const double *u, double *out, i64 n) {
    for (i64 i = 0; i < n; i++) {
        double s = 0.0;
        for (i64 j = 0; j < n; j++)
            s += eval_a(i, j) * u[j];
        out[i] = s;
    }
}

static void times_at(const double *u, double *out, i64 n) {
    for (i64 i = 0; i < n; i++) {
        double s = 0.0;
        for (i64 j = 0; j < n; j++)
            s += eval_a(j, i) * u[j];
        out[i] = s;
    }
}

double spectral_norm(double *u, double *v, double *tmp, i64 n) {
    for (int k = 0; k < 10; k++) {
        times_a(u, tmp, n);
        times_at(tmp, v, n);
        times_a(v, tmp, n);
        times_at(tmp, u, n);
    }
    double vbv = 0.0, vv = 0.0;
    for (i64 i = 0; i < n; i++) {
        vbv += u[i] * v[i];
        vv += v[i] * v[i];
    }
    return sqrt(vbv / vv);
}

double stencil(double *a, double *b, i64 n, i64 steps) {
    for (i64 s = 0; s < steps; s++) {
        for (i64 i = 1; i < n - 1; i++)
            b[i] = 0.25 * a[i - 1] + 0.5 * a[i] + 0.25 * a[i + 1];
        for (i64 i = 1; i < n - 1; i++)
            a[i] = 0.25 * b[i - 1] + 0.5 * b[i] + 0.25 * b[i + 1];
    }
    double s = 0.0;
    for (i64 i = 0; i < n; i++)
        s += a[i];
    return s;
}
