#!/usr/bin/env python3
"""The Python side of `npm run bench:peers` (issue 6): one persistent process per interpreter.

Reads one JSON command per line on stdin and answers one JSON line on stdout, so the runner can
interleave Python peers with molrg without paying interpreter start-up per measurement. Every timing
is taken here with time.perf_counter around the work alone (inputs prepared beforehand). Inputs
shared with molrg (training data, matrices, digits, bases) come as raw little-endian binary files
written by the runner: {"path", "dtype", "shape"}.

Peers (each optional; `hello` says which import): PyTorch (CPU, float32), numpy/LAPACK, scikit-learn.
The DAE loss, the Riemannian Adam step and the exact denoiser follow SPEC.md sections 3-4 and
docs/kernels.md line by line: same constants, same float64 gating, same tangent projection, same
bias-corrected Adam and QR retraction with positive diag(R).
"""
import json
import math
import os
import platform
import sys
import time

OUT = sys.stdout
sys.stdout = sys.stderr  # whatever a library prints must not corrupt the protocol

import numpy as np  # noqa: E402  (the server needs numpy; the runner probes for it first)

try:
    import torch
except Exception:  # absent or broken: reported by `hello`
    torch = None
try:
    import sklearn
    from sklearn.cluster import KMeans
    from sklearn.utils.extmath import randomized_svd
except Exception:
    sklearn = None

STATE = {}
P_MEAN, P_STD = -1.2, 1.2  # EDM log-normal training noise levels (SPEC section 2)


def load(spec):
    """A runner-written array: raw little-endian data of `dtype` and `shape`."""
    return np.fromfile(spec['path'], dtype=spec['dtype']).reshape(spec['shape'])


def blas_info():
    try:
        from threadpoolctl import threadpool_info
        return [{k: p.get(k) for k in ('internal_api', 'version', 'num_threads', 'threading_layer')} for p in threadpool_info()]
    except Exception as e:  # threadpoolctl absent: say so
        return 'threadpoolctl not installed (%s)' % type(e).__name__


def hello(a):
    threads = int(a['threads'])
    if torch is not None:
        torch.set_num_threads(threads)
    return {
        'executable': sys.executable,
        'python': platform.python_version(),
        'numpy': np.__version__,
        'torch': torch.__version__ if torch is not None else None,
        'torchThreads': torch.get_num_threads() if torch is not None else None,
        'sklearn': sklearn.__version__ if sklearn is not None else None,
        'blas': blas_info(),
        'blasThreadsRequested': os.environ.get('OPENBLAS_NUM_THREADS'),
    }


# ---- the low-rank DAE (SPEC sections 3-4, docs/kernels.md) -------------------------------------

def constants(s, sigma, dims, lam, delta, logpi):
    """Per-sample, per-component constants in float64 (docs/kernels.md): bias, phi, h [B, K], a0 [B]."""
    gamma = s * sigma
    beta = s * s * delta * delta + gamma * gamma
    alpha = (s * s)[:, None] * lam[None, :]
    phi = alpha / (2 * beta[:, None] * (alpha + beta[:, None]))
    bias = logpi[None, :] - 0.5 * dims[None, :] * torch.log1p(alpha / beta[:, None])
    h = s[:, None] * (lam[None, :] + delta * delta) / (alpha + beta[:, None]) - (s * delta * delta / beta)[:, None]
    a0 = s * delta * delta / beta
    return bias, phi, h, a0


def denoise(U, xt, K, d, consts):
    """E[x0 | x_t] of a batch (SPEC section 3): P = x U, float64 gating, out = a0 x + (P o C) U^T."""
    bias, phi, h, a0 = consts
    B = xt.shape[0]
    P = xt @ U
    e = P.view(B, K, d).square().sum(-1).double()
    w = torch.softmax(bias + phi * e, dim=1)
    C = (w * h).float().repeat_interleave(d, dim=1)
    return a0.float()[:, None] * xt + (P * C) @ U.T


def dae_loss(U, x0, eps, s, sigma, weight, K, d, prior):
    """L = sum_b weight_b ||E[x0 | x_t] - x0_b||^2 with x_t = s (x0 + sigma eps) (SPEC section 4)."""
    lam, delta, logpi = prior
    xt = s.float()[:, None] * (x0 + sigma.float()[:, None] * eps)
    dims = torch.full((K,), float(d), dtype=torch.float64)
    out = denoise(U, xt, K, d, constants(s, sigma, dims, lam, delta, logpi))
    return (weight * (out - x0).square().sum(1)).sum()


def default_prior(K):
    return (torch.ones(K, dtype=torch.float64), 0.0, torch.full((K,), -math.log(K), dtype=torch.float64))


def blocks(U, n, K, d):
    """The stacked [n, K d] parameter as K blocks [K, n, d] (a view)."""
    return U.view(n, K, d).permute(1, 0, 2)


def qr_retract(Ub):
    """Q of a thin QR with positive diag(R), per block."""
    Q, R = torch.linalg.qr(Ub)
    sign = torch.sign(torch.diagonal(R, dim1=1, dim2=2))
    sign[sign == 0] = 1
    return Q * sign[:, None, :]


def learning_rate(lr, t, steps, warmup):
    """trainDAE's schedule: linear warm-up, then cosine decay."""
    if t < warmup:
        return lr * (t + 1) / warmup
    span = max(1, steps - warmup)
    return 0.5 * lr * (1 + math.cos(math.pi * (t - warmup) / span))


class DAETrainer:
    """Training the DAE as PyTorch users would: autograd backward, torch.optim.Adam on the Riemannian
    gradient G - U sym(U^T G) (the same bias-corrected Adam as stiefelStep), QR retraction."""

    def __init__(self, x, K, d, batch, lr, seed):
        torch.manual_seed(seed)
        self.x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        self.N, self.n = self.x.shape
        self.K, self.d, self.B = K, d, batch
        self.prior = default_prior(K)
        xs = self.x.double()
        self.sigma_data = float(xs.var(0, unbiased=False).mean().sqrt()) or float(xs.square().mean().sqrt())
        U0 = qr_retract(torch.randn(K, self.n, d))
        self.U = torch.nn.Parameter(U0.permute(1, 0, 2).reshape(self.n, K * d).contiguous())
        self.opt = torch.optim.Adam([self.U], lr=lr, betas=(0.9, 0.999), eps=1e-8)
        self.lr = lr

    def train(self, steps):
        n, K, d, B, sd = self.n, self.K, self.d, self.B, self.sigma_data
        warmup = round(steps / 20)
        U, opt = self.U, self.opt
        for t in range(steps):
            idx = torch.randint(self.N, (B,))
            sigma = torch.exp(P_MEAN + P_STD * torch.randn(B, dtype=torch.float64))
            s = torch.ones(B, dtype=torch.float64)
            weight = ((sigma * sigma + sd * sd) / (sigma * sd) ** 2 / B).float()
            eps = torch.randn(B, n)
            loss = dae_loss(U, self.x[idx], eps, s, sigma, weight, K, d, self.prior)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            with torch.no_grad():
                Ub, G = blocks(U, n, K, d), blocks(U.grad, n, K, d)
                S = Ub.transpose(1, 2) @ G
                xi = G - Ub @ (0.5 * (S + S.transpose(1, 2)))
                U.grad.copy_(xi.permute(1, 0, 2).reshape(n, K * d))
            lr = learning_rate(self.lr, t, steps, warmup)
            for g in opt.param_groups:
                g['lr'] = lr
            opt.step()
            with torch.no_grad():
                U.copy_(qr_retract(blocks(U, n, K, d)).permute(1, 0, 2).reshape(n, K * d))


def edm_sigmas(steps, smin=0.002, smax=80.0, rho=7.0):
    a, b = smax ** (1 / rho), smin ** (1 / rho)
    return [(a + (i / (steps - 1) if steps > 1 else 0) * (b - a)) ** rho for i in range(steps)] + [0.0]


def heun(U, K, d, count, steps, seed):
    """EDM Heun sampler (SPEC section 6) over the exact MoLRG denoiser, VE (s = 1)."""
    torch.manual_seed(seed)
    n = U.shape[0]
    prior = default_prior(K)
    dims = torch.full((K,), float(d), dtype=torch.float64)
    sig = edm_sigmas(steps)

    def D(x, sigma):
        s = torch.ones(count, dtype=torch.float64)
        c = constants(s, torch.full((count,), sigma, dtype=torch.float64), dims, *prior)
        return denoise(U, x, K, d, c)

    with torch.inference_mode():
        x = torch.randn(count, n) * sig[0]
        for i in range(steps):
            sigma, nxt = sig[i], sig[i + 1]
            den = D(x, sigma)
            euler = x + (1 - nxt / sigma) * (den - x)
            if nxt > 0:
                den2 = D(euler, nxt)
                x = x + (nxt - sigma) * 0.5 * ((x - den) / sigma + (euler - den2) / nxt)
            else:
                x = euler
    return x


# ---- commands --------------------------------------------------------------------------------

def timed(f):
    t0 = time.perf_counter()
    out = f()
    return time.perf_counter() - t0, out


def prepare(a):
    """Loads a workload's inputs once, keyed by `key`."""
    key, kind = a['key'], a['kind']
    if kind == 'dae':
        STATE[key] = {'x': load(a['x']), **{k: a[k] for k in ('K', 'd', 'batch', 'steps', 'lr')}}
    elif kind == 'sample':
        STATE[key] = {'U': torch.from_numpy(load(a['U']).copy()) if torch is not None else None, **{k: a[k] for k in ('K', 'd', 'count', 'steps')}}
    elif kind in ('svd', 'topk', 'kmeans'):
        STATE[key] = {'A': load(a['A']), **{k: a[k] for k in a if k not in ('key', 'kind', 'A')}}
        STATE[key]['At'] = torch.from_numpy(STATE[key]['A']) if torch is not None else None
    elif kind == 'gemm':
        rng = np.random.default_rng(0)
        ops = []
        for m, k, n in a['shapes']:  # C [m, n] = A [m, k] B [k, n]
            ops.append((rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32), np.empty((m, n), np.float32)))
        STATE[key] = {'ops': ops}
    elif kind == 'phase':
        STATE[key] = {k: a[k] for k in ('n', 'K', 'steps', 'batch', 'lr')}
    else:
        raise ValueError('Expected a known kind for prepare but received %r' % kind)
    return {}


def run(a):
    """One measurement of (key, impl): {'seconds': ..., 'reps': ...} (seconds per rep)."""
    st, impl, reps = STATE[a['key']], a['impl'], int(a.get('reps', 1))
    seed = int(a.get('seed', 0))
    extra = {}
    if impl == 'torch-dae':
        tr = DAETrainer(st['x'], st['K'], st['d'], st['batch'], st['lr'], seed)
        sec, _ = timed(lambda: tr.train(st['steps']))
        return {'seconds': sec / st['steps']}
    if impl == 'torch-heun':
        sec, _ = timed(lambda: heun(st['U'], st['K'], st['d'], st['count'], st['steps'], seed))
        return {'seconds': sec}
    if impl == 'torch-phase-cell':
        n, K, d, N = st['n'], st['K'], int(a['d']), int(a['N'])

        def cell():
            torch.manual_seed(seed)
            truth = qr_retract(torch.randn(K, n, d))
            x = torch.cat([(truth[k] @ torch.randn(d, N)).T for k in range(K)]).numpy()
            DAETrainer(x, K, d, st['batch'], st['lr'], seed + 1).train(st['steps'])
        sec, _ = timed(cell)
        return {'seconds': sec}
    if impl == 'numpy-svd':
        A = st['A']
        sec, _ = timed(lambda: [np.linalg.svd(A, full_matrices=False) for _ in range(reps)])
    elif impl == 'torch-svd':
        At = st['At']
        sec, _ = timed(lambda: [torch.linalg.svd(At, full_matrices=False) for _ in range(reps)])
    elif impl == 'numpy-topk':
        A, r = st['A'], st['r']
        sec, out = timed(lambda: np.linalg.svd(A, full_matrices=False)[0][:, :, :r])
        st['out:numpy'] = out
    elif impl == 'torch-lowrank':
        At, r = st['At'], st['r']
        torch.manual_seed(seed)
        sec, out = timed(lambda: torch.svd_lowrank(At, q=r)[0])
        st['out:torch'] = out.numpy()
    elif impl == 'sklearn-randomized':
        A, r = st['A'], st['r']
        sec, out = timed(lambda: [randomized_svd(A[i], r)[0] for i in range(A.shape[0])])
        st['out:sklearn'] = np.stack(out)
    elif impl == 'sklearn-kmeans':
        A = st['A']
        sec, km = timed(lambda: KMeans(n_clusters=st['K'], n_init=1, random_state=seed).fit(A))
        extra['labels'] = km.labels_.tolist()
    elif impl == 'numpy-gemm':
        ops = st['ops']

        def gemms():
            for _ in range(reps):
                for A, B, C in ops:
                    np.matmul(A, B, out=C)
        sec, _ = timed(gemms)
    else:
        raise ValueError('Expected a known implementation for impl but received %r' % impl)
    return {'seconds': sec / reps, **extra}


def dump(a):
    """Writes the last output of a W5 peer (top-r left singular vectors [batch, m, r]) as float64."""
    st = STATE[a['key']]
    out = st['out:' + a['which']].astype(np.float64)
    out.tofile(a['path'])
    return {'shape': list(out.shape)}


def reference(a):
    """Top-r left singular vectors of every matrix of A in float64 (numpy LAPACK), written to `path`."""
    A = load(a['A']).astype(np.float64)
    U = np.linalg.svd(A, full_matrices=False)[0][:, :, :a['r']]
    np.ascontiguousarray(U).tofile(a['path'])
    return {'shape': list(U.shape)}


def dae_check(a):
    """PyTorch's loss and gradient on the runner's inputs (not timed): loss, and dL/dU written to `grad`."""
    K, d = a['K'], a['d']
    U = torch.nn.Parameter(torch.from_numpy(load(a['U']).copy()))
    f64 = lambda k: torch.from_numpy(load(a[k]).astype(np.float64))  # noqa: E731
    loss = dae_loss(U, torch.from_numpy(load(a['x0']).copy()), torch.from_numpy(load(a['eps']).copy()),
                    f64('s'), f64('sigma'), torch.from_numpy(load(a['weight']).copy()), K, d, default_prior(K))
    loss.backward()
    U.grad.numpy().astype(np.float64).tofile(a['grad'])
    return {'loss': float(loss)}


COMMANDS = {'hello': hello, 'prepare': prepare, 'run': run, 'dump': dump, 'reference': reference, 'daeCheck': dae_check}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        try:
            reply = {'id': msg['id'], 'ok': True, 'result': COMMANDS[msg['cmd']](msg.get('args', {}))}
        except Exception as e:  # reported to the runner, which prints it; the server keeps serving
            reply = {'id': msg['id'], 'ok': False, 'error': '%s: %s' % (type(e).__name__, e)}
        OUT.write(json.dumps(reply) + '\n')
        OUT.flush()


if __name__ == '__main__':
    main()
