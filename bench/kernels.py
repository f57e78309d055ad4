"""Benchmark kernels: plain Python in the subset ``@minijit.jit`` compiles.

Every function here uses only ints, floats, bools, ``while`` and ``for ... in
range``, ``if``, calls to functions of this file, and ``math``; the array
kernels take one-dimensional NumPy arrays and their length as an explicit
argument.  Each kernel returns one number, so that CPython, the C versions
in ``kernels.c`` (the same algorithm, operation for operation, so even float
results agree to the last bit), Numba and minijit can be compared.

Nothing is decorated here.  ``suite.py`` runs the file as it is (CPython) or
executes it into a fresh namespace where the kernel and the functions it calls
are replaced by their ``jit(f)``, just as a user decorating each would.
"""

import math

# --- scalar kernels -------------------------------------------------------------------


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def gcd(a, b):
    while b != 0:
        t = a % b
        a = b
        b = t
    return a


def gcd_sum(n):
    """Sum of gcd(i, j) over all pairs 1 <= i, j <= n."""
    s = 0
    for i in range(1, n + 1):
        for j in range(1, n + 1):
            s += gcd(i, j)
    return s


def collatz_steps(n):
    """Total Collatz steps to reach 1, over all starts 1..n."""
    total = 0
    for start in range(1, n + 1):
        x = start
        while x != 1:
            if x % 2 == 0:
                x = x // 2
            else:
                x = 3 * x + 1
            total += 1
    return total


def xorshift32(x):
    # Shifts to the left are masked back to 32 bits, as a uint32_t would wrap.
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    return x


def xorshift_hash(n):
    """Hash of n xorshift32 outputs: h = (h * 31 + x) mod 2**32."""
    x = 2463534242
    h = 0
    for _ in range(n):
        x = xorshift32(x)
        h = (h * 31 + x) & 0xFFFFFFFF
    return h


def popcount(x):
    c = 0
    while x != 0:
        x &= x - 1  # clears the lowest set bit
        c += 1
    return c


def popcount_sum(n):
    s = 0
    for i in range(n):
        s += popcount(i)
    return s


def escape_count(cr, ci, max_iter):
    zr = 0.0
    zi = 0.0
    k = 0
    while k < max_iter:
        zr2 = zr * zr
        zi2 = zi * zi
        if zr2 + zi2 > 4.0:
            return k
        zi = 2.0 * zr * zi + ci
        zr = zr2 - zi2 + cr
        k += 1
    return max_iter


def mandelbrot(size):
    """Sum of escape counts (at most 100) on a size x size grid over [-2, 1] x [-1.5, 1.5]."""
    total = 0
    for y in range(size):
        ci = -1.5 + 3.0 * y / size
        for x in range(size):
            cr = -2.0 + 3.0 * x / size
            total += escape_count(cr, ci, 100)
    return total


def integrate_pi(n):
    """Midpoint rule for the integral of 4 / (1 + x*x) over [0, 1] (that is, pi)."""
    h = 1.0 / n
    s = 0.0
    for i in range(n):
        x = (i + 0.5) * h
        s += 4.0 / (1.0 + x * x)
    return s * h


def newton_sqrt(v):
    # Start above the root; Newton's steps then fall until they stop falling.
    x = v + 1.0
    nx = 0.5 * (x + v / x)
    while nx < x:
        x = nx
        nx = 0.5 * (x + v / x)
    return x


def newton_sum(n):
    s = 0.0
    for i in range(1, n + 1):
        s += newton_sqrt(float(i))
    return s


# --- array kernels --------------------------------------------------------------------


def sieve(flags, n):
    """Primes below n; flags is a uint8 array of n ones, crossed out in place."""
    count = 0
    for i in range(2, n):
        if flags[i] != 0:
            count += 1
            j = i * i
            while j < n:
                flags[j] = 0
                j += i
    return count


def dot(a, b, n, reps):
    """reps passes of the dot product of two float64 arrays, summed."""
    s = 0.0
    for _ in range(reps):
        for i in range(n):
            s += a[i] * b[i]
    return s


def matmul(a, b, c, n):
    """c = a @ b for n x n float64 matrices stored row by row; returns sum of c."""
    total = 0.0
    for i in range(n):
        for j in range(n):
            s = 0.0
            for k in range(n):
                s += a[i * n + k] * b[k * n + j]
            c[i * n + j] = s
            total += s
    return total


def nbody_energy(pos, vel, mass, nb):
    e = 0.0
    for i in range(nb):
        vx = vel[3 * i]
        vy = vel[3 * i + 1]
        vz = vel[3 * i + 2]
        e += 0.5 * mass[i] * (vx * vx + vy * vy + vz * vz)
        for j in range(i + 1, nb):
            dx = pos[3 * i] - pos[3 * j]
            dy = pos[3 * i + 1] - pos[3 * j + 1]
            dz = pos[3 * i + 2] - pos[3 * j + 2]
            e -= mass[i] * mass[j] / math.sqrt(dx * dx + dy * dy + dz * dz)
    return e


def nbody_advance(pos, vel, mass, nb, dt):
    for i in range(nb):
        for j in range(i + 1, nb):
            dx = pos[3 * i] - pos[3 * j]
            dy = pos[3 * i + 1] - pos[3 * j + 1]
            dz = pos[3 * i + 2] - pos[3 * j + 2]
            d2 = dx * dx + dy * dy + dz * dz
            mag = dt / (d2 * math.sqrt(d2))
            bim = mass[i] * mag
            bjm = mass[j] * mag
            vel[3 * i] -= dx * bjm
            vel[3 * i + 1] -= dy * bjm
            vel[3 * i + 2] -= dz * bjm
            vel[3 * j] += dx * bim
            vel[3 * j + 1] += dy * bim
            vel[3 * j + 2] += dz * bim
    for i in range(nb):
        pos[3 * i] += dt * vel[3 * i]
        pos[3 * i + 1] += dt * vel[3 * i + 1]
        pos[3 * i + 2] += dt * vel[3 * i + 2]


def nbody(pos, vel, mass, nb, steps):
    """The Benchmarks Game's n-body: energy after steps of 0.01 (momentum pre-offset)."""
    for _ in range(steps):
        nbody_advance(pos, vel, mass, nb, 0.01)
    return nbody_energy(pos, vel, mass, nb)


def eval_a(i, j):
    return 1.0 / ((i + j) * (i + j + 1) // 2 + i + 1)


def times_a(u, out, n):
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += eval_a(i, j) * u[j]
        out[i] = s


def times_at(u, out, n):
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += eval_a(j, i) * u[j]
        out[i] = s


def spectral_norm(u, v, tmp, n):
    """The Benchmarks Game's spectral norm; u starts as ones."""
    for _ in range(10):
        times_a(u, tmp, n)
        times_at(tmp, v, n)
        times_a(v, tmp, n)
        times_at(tmp, u, n)
    vbv = 0.0
    vv = 0.0
    for i in range(n):
        vbv += u[i] * v[i]
        vv += v[i] * v[i]
    return math.sqrt(vbv / vv)


def stencil(a, b, n, steps):
    """steps passes of a three-point smoothing, a -> b -> a; returns sum of a."""
    for _ in range(steps):
        for i in range(1, n - 1):
            b[i] = 0.25 * a[i - 1] + 0.5 * a[i] + 0.25 * a[i + 1]
        for i in range(1, n - 1):
            a[i] = 0.25 * b[i - 1] + 0.5 * b[i] + 0.25 * b[i + 1]
    s = 0.0
    for i in range(n):
        s += a[i]
    return s


# --- call overhead --------------------------------------------------------------------


def add(a, b):
    return a + b
