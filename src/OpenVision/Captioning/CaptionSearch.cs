using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Captioning;

/// <summary>Greedy and beam-search decoding for one image with an <see cref="OpenVision2Decoder"/>.</summary>
/// <remarks>Every step runs the decoder over the whole [image; caption so far] sequence (no key-value cache): captions
/// are short and the image tokens dominate the sequence, so a cache would save little. Only ids below
/// <c>vocabularyLimit</c> are considered: the decoder has 32,000 rows but the WordPiece vocabulary 30,522, and rows
/// beyond it never appear in training captions, so they are never generated.</remarks>
public static class CaptionSearch
{
    /// <summary>The argmax token at each step until [eos] or <paramref name="maxTokens"/> tokens.</summary>
    /// <param name="decoder">The decoder.</param>
    /// <param name="imageTokens">Patch tokens of one image [1, N, Wv].</param>
    /// <param name="mask">Attention mask.</param>
    /// <param name="maxTokens">Most generated tokens, [eos] not counted.</param>
    /// <param name="vocabularyLimit">Only ids below this are generated.</param>
    public static (List<int> Ids, double LogProbability) Greedy(OpenVision2Decoder decoder, Tensor imageTokens, CaptionMask mask, int maxTokens, int vocabularyLimit)
    {
        var ids = new List<int> { decoder.Config.BosId };
        double total = 0;
        for (int step = 0; step < maxTokens; step++)
        {
            using var logp = NextLogProbabilities(decoder, imageTokens, ids, mask, vocabularyLimit);
            using var best = logp.argmax();
            int next = (int)best.item<long>();
            total += logp.data<double>()[next];
            if (next == decoder.Config.EosId) break;
            ids.Add(next);
        }
        return (ids.Skip(1).ToList(), total);
    }

    /// <summary>Beam search: sum of log-probabilities, no length normalisation. Each step expands every live caption by
    /// its <paramref name="width"/> best tokens and keeps the <paramref name="width"/> best expansions overall (ties in
    /// order of the beams, then of the tokens); expansions ending in [eos] are finished and leave the beam. It stops when
    /// <paramref name="width"/> captions are finished, nothing is left to expand, or after <paramref name="maxTokens"/>
    /// steps, and returns the best finished caption (the best unfinished one when none finished).</summary>
    public static (List<int> Ids, double LogProbability) Beam(OpenVision2Decoder decoder, Tensor imageTokens, CaptionMask mask, int maxTokens, int vocabularyLimit, int width)
    {
        int eos = decoder.Config.EosId;
        var live = new List<(double Score, List<int> Ids)> { (0, [decoder.Config.BosId]) };
        var finished = new List<(double Score, List<int> Ids)>();
        for (int step = 0; step < maxTokens && live.Count > 0 && finished.Count < width; step++)
        {
            var candidates = new List<(double Score, List<int> Ids)>();
            foreach (var (score, seq) in live)
            {
                using var logp = NextLogProbabilities(decoder, imageTokens, seq, mask, vocabularyLimit);
                var (values, indices) = logp.topk(Math.Min(width, vocabularyLimit));
                using (values)
                using (indices)
                {
                    var v = values.data<double>().ToArray();
                    var k = indices.data<long>().ToArray();
                    for (int i = 0; i < v.Length; i++) candidates.Add((score + v[i], [.. seq, (int)k[i]]));
                }
            }
            live = [];
            foreach (var candidate in candidates.OrderByDescending(c => c.Score).Take(width))   // stable: ties keep their order
                (candidate.Ids[^1] == eos ? finished : live).Add(candidate);
        }
        var best = (finished.Count > 0 ? finished : live).MaxBy(c => c.Score);
        return (best.Ids.Skip(1).Where(id => id != eos).ToList(), best.Score);
    }

    // log_softmax in float64 over the allowed ids of the last position's logits: [vocabularyLimit].
    private static Tensor NextLogProbabilities(OpenVision2Decoder decoder, Tensor imageTokens, List<int> ids, CaptionMask mask, int vocabularyLimit)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var tokenIds = torch.tensor(ids.Select(i => (long)i).ToArray(), ScalarType.Int64).unsqueeze(0);   // [1, T]
        var logits = decoder.Logits(imageTokens, tokenIds, mask)[0, -1];                                  // [V]
        var allowed = logits.narrow(0, 0, Math.Min(vocabularyLimit, logits.shape[0])).to(ScalarType.Float64).cpu();
        return allowed.log_softmax(0).MoveToOuterDisposeScope();
    }
}
