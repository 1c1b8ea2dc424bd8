using OpenVision.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Evaluation;

/// <summary>Recall@k in both directions, by the COCO / Flickr30k protocol: an image query is correct when any of
/// its captions is among the k best texts; a caption query is correct when its image is among the k best images.</summary>
/// <remarks>A query's rank is the number of candidates scoring strictly higher than its best correct one, so ties
/// count in the query's favour (top-k selection would break them arbitrarily). Scores are computed in chunks of
/// queries, so N × M never needs to fit in memory at once.</remarks>
public static class RetrievalRecall
{
    /// <summary>Recalls for each k: image→text (text retrieval) and text→image (image retrieval).</summary>
    /// <param name="imageFeatures">[N, E] L2-normalised image features.</param>
    /// <param name="textFeatures">[M, E] L2-normalised text features.</param>
    /// <param name="textToImage">For each text, the index of its image (every image needs at least one text).</param>
    /// <param name="ks">The k values, e.g. 1, 5, 10.</param>
    /// <param name="chunkSize">Queries scored at once.</param>
    /// <remarks>Numbers go to TorchSharp as Scalars that live until the operator returns (see Native.KeptScalars).</remarks>
    public static (IReadOnlyDictionary<int, double> ImageToText, IReadOnlyDictionary<int, double> TextToImage) Compute(
        Tensor imageFeatures, Tensor textFeatures, IReadOnlyList<int> textToImage, IReadOnlyList<int> ks, int chunkSize = 1024)
    {
        using var scope = torch.NewDisposeScope();
        long images = imageFeatures.shape[0], texts = textFeatures.shape[0];
        if (texts != textToImage.Count) throw new ArgumentException($"{texts} text features but {textToImage.Count} text→image entries");
        if (textToImage.Any(i => i < 0 || i >= images)) throw new ArgumentException("a text points to an image index out of range");
        var owner = torch.tensor(textToImage.Select(i => (long)i).ToArray());   // [M]
        if (owner.bincount(null, images).min().item<long>() == 0) throw new ArgumentException("every image needs at least one caption");

        var imageRanks = new List<Tensor>();
        for (long start = 0; start < images; start += chunkSize)
        {
            long n = Math.Min(chunkSize, images - start);
            var scores = imageFeatures.narrow(0, start, n).matmul(textFeatures.T);              // [n, M]
            using var first = start.ToScalar();
            using var end = (start + n).ToScalar();
            var mine = owner.unsqueeze(0) == torch.arange(first, end, KeptScalars.One).unsqueeze(1);   // [n, M] caption belongs to image
            var best = scores.masked_fill(mine.logical_not(), KeptScalars.NegativeInfinity).amax([1], keepdim: true);   // [n, 1]
            imageRanks.Add((scores > best).sum(1));                                              // [n]
        }
        var textRanks = new List<Tensor>();
        for (long start = 0; start < texts; start += chunkSize)
        {
            long m = Math.Min(chunkSize, texts - start);
            var scores = textFeatures.narrow(0, start, m).matmul(imageFeatures.T);              // [m, N]
            var positive = scores.gather(1, owner.narrow(0, start, m).unsqueeze(1));             // [m, 1]
            textRanks.Add((scores > positive).sum(1));                                           // [m]
        }
        var imageRank = torch.cat(imageRanks, 0);
        var textRank = torch.cat(textRanks, 0);
        return (ks.ToDictionary(k => k, k => Fraction(imageRank, k)), ks.ToDictionary(k => k, k => Fraction(textRank, k)));
    }

    private static double Fraction(Tensor ranks, int k)
    {
        using var limit = k.ToScalar();
        using var within = ranks.lt(limit);
        using var count = within.sum();
        return count.item<long>() / (double)ranks.shape[0];
    }
}
