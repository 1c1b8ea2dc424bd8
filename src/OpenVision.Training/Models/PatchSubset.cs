using OpenVision.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Models;

/// <summary>Which patch tokens the OpenVision 2 caption decoder reads: for every image a fresh uniform random subset of
/// <c>int(N · keep_ratio)</c> of its N patch tokens, drawn without replacement (JAX <c>openvision2_model.py</c>:
/// <c>jax.random.choice(rng_i, N, shape=(num_keep,), replace=False)</c> per example).</summary>
/// <remarks>Each image's draw is keyed by the run's seed, the global optimizer step and the image's index in the step's
/// global batch (micro-batches and ranks included), through <see cref="DataRandom"/>: it is reproducible, fresh every
/// step, different for every image, and does not depend on the number of ranks or micro-batches, so a data-parallel
/// or accumulated step draws exactly what one process with the whole batch draws. The kept tokens stay in drawn
/// order, as <c>jax.random.choice</c> returns them (the order matters under the decoder's causal mask).</remarks>
public static class PatchSubset
{
    /// <summary>Tokens kept out of <paramref name="tokens"/>: <c>int(tokens · keepRatio)</c> (at least 1).</summary>
    public static int KeptCount(int tokens, double keepRatio)
    {
        if (!(keepRatio > 0 && keepRatio <= 1)) throw new ArgumentOutOfRangeException(nameof(keepRatio), keepRatio, "keep_ratio must be in (0, 1]");
        // Python's int() of the double product, as the JAX code computes it (so 100 · 0.29 keeps 28); never zero tokens.
        return Math.Max(1, (int)(tokens * keepRatio));
    }

    /// <summary>The kept token indices of one image: a uniform random k-subset of [0, <paramref name="tokens"/>) in
    /// random order (a partial Fisher–Yates shuffle, every ordered k-tuple of distinct indices equally likely).</summary>
    /// <param name="seed">The run's seed.</param>
    /// <param name="step">Global optimizer step (0-based).</param>
    /// <param name="sample">The image's index in the step's global batch.</param>
    /// <param name="tokens">N, patch tokens per image.</param>
    /// <param name="keep">k, tokens to keep.</param>
    public static int[] Draw(long seed, long step, long sample, int tokens, int keep)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens);
        if (keep < 1 || keep > tokens) throw new ArgumentOutOfRangeException(nameof(keep), keep, $"between 1 and {tokens} tokens can be kept");
        var random = new DataRandom(seed, 0x5041544348, step, sample);   // "PATCH": a stream of its own
        var order = new int[tokens];
        for (int i = 0; i < tokens; i++) order[i] = i;
        for (int i = 0; i < keep; i++)
        {
            int j = i + random.NextInt(tokens - i);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order[..keep];
    }

    /// <summary>The kept indices of a batch as an int64 tensor [B, k]: row i is <see cref="Draw"/> for sample
    /// <paramref name="firstSample"/> + i.</summary>
    public static Tensor Indices(long seed, long step, long firstSample, int batch, int tokens, int keep, Device? device = null)
    {
        var flat = new long[(long)batch * keep];
        for (int b = 0; b < batch; b++)
        {
            var kept = Draw(seed, step, firstSample + b, tokens, keep);
            for (int i = 0; i < keep; i++) flat[(long)b * keep + i] = kept[i];
        }
        return torch.tensor(flat, [batch, keep], ScalarType.Int64, device);
    }

    /// <summary>Gathers the kept tokens: [B, N, W] and indices [B, k] to [B, k, W] (differentiable in the tokens).</summary>
    public static Tensor Gather(Tensor tokens, Tensor indices)
    {
        if (tokens.ndim != 3 || indices.ndim != 2 || indices.shape[0] != tokens.shape[0])
            throw new ArgumentException($"need tokens [B, N, W] and indices [B, k]; got [{string.Join(", ", tokens.shape)}] and [{string.Join(", ", indices.shape)}]");
        using var scope = torch.NewDisposeScope();
        var index = indices.to(tokens.device).unsqueeze(-1).expand(-1, -1, tokens.shape[2]);   // [B, k, W]
        return tokens.gather(1, index).MoveToOuterDisposeScope();
    }
}
