#!/usr/bin/python3
"""bench/torch_forward.py - the PyTorch side of bench/bbt: the same BERT
forward the native backend runs for a BBT call, timed.

A post-LayerNorm BERT (exact-erf GELU) of the given shape with random
weights (the time of a forward does not depend on their values), fed the
way BBT feeds Hugging Face's model: `inputs_embeds` with the P prompt
vectors after [CLS], the V x B sequences of a population in one padded
batch with an attention mask (padded to the longest, PyTorch's best case),
the MLM head at the mask position and the label words' rows only, under
torch.inference_mode(). Prints the best wall time of --reps forwards,
divided by V: seconds per API call.

    torch_forward.py --layers 8 --hidden 128 --heads 2 --ffn 512 \
        --prompt 50 --variants 20 --lengths 16,15,54,... --threads 2
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F


def layer_weights(h, f, gen):
    def w(*shape):
        return torch.randn(*shape, generator=gen) * 0.02
    return {
        "wqkv": w(3 * h, h), "bqkv": w(3 * h), "wo": w(h, h), "bo": w(h),
        "g1": torch.ones(h), "b1n": torch.zeros(h),
        "w1": w(f, h), "b1": w(f), "w2": w(h, f), "b2": w(h),
        "g2": torch.ones(h), "b2n": torch.zeros(h),
    }


def encoder(x, mask_add, layers, heads, eps):
    n, t, h = x.shape
    dh = h // heads
    for ly in layers:
        qkv = F.linear(x, ly["wqkv"], ly["bqkv"]).view(n, t, 3, heads, dh)
        q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh) + mask_add
        ctx = torch.matmul(torch.softmax(s, dim=-1), v).transpose(1, 2).reshape(n, t, h)
        x = F.layer_norm(F.linear(ctx, ly["wo"], ly["bo"]) + x, (h,), ly["g1"], ly["b1n"], eps)
        u = F.gelu(F.linear(x, ly["w1"], ly["b1"]))
        x = F.layer_norm(F.linear(u, ly["w2"], ly["b2"]) + x, (h,), ly["g2"], ly["b2n"], eps)
    return x


def main():
    ap = argparse.ArgumentParser()
    for k in ("layers", "hidden", "heads", "ffn", "prompt", "variants", "threads"):
        ap.add_argument("--" + k, type=int, required=True)
    ap.add_argument("--lengths", required=True, help="tokens of each sequence, prompt excluded")
    ap.add_argument("--reps", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(7)
    h, eps = a.hidden, 1e-12
    lens = [int(x) for x in a.lengths.split(",")]
    layers = [layer_weights(h, a.ffn, gen) for _ in range(a.layers)]
    head_w, head_b = torch.randn(h, h, generator=gen) * 0.02, torch.zeros(h)
    label_rows = torch.randn(2, h, generator=gen) * 0.02

    # the padded batch: V copies of the B sequences, each with its prompt
    n, t = a.variants * len(lens), max(lens) + a.prompt
    emb = torch.randn(n, t, h, generator=gen) * 0.02
    keep = torch.zeros(n, t)
    mask_pos = torch.zeros(n, dtype=torch.long)
    for i in range(n):
        ln = lens[i % len(lens)] + a.prompt
        keep[i, :ln] = 1
        mask_pos[i] = ln - 3   # "<S> . It was <mask> . [SEP]"
    mask_add = ((1.0 - keep) * torch.finfo(torch.float32).min)[:, None, None, :]
    pos = torch.randn(t, h, generator=gen) * 0.02

    best = math.inf
    with torch.inference_mode():
        for _ in range(a.reps):
            t0 = time.perf_counter()
            x = F.layer_norm(emb + pos, (h,), torch.ones(h), torch.zeros(h), eps)
            x = encoder(x, mask_add, layers, a.heads, eps)
            hv = x[torch.arange(n), mask_pos]
            hv = F.layer_norm(F.gelu(F.linear(hv, head_w, head_b)), (h,), None, None, eps)
            logits = hv @ label_rows.T
            best = min(best, time.perf_counter() - t0)
    assert torch.isfinite(logits).all()
    print("%.6f" % (best / a.variants))


if __name__ == "__main__":
    main()
