using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Text;

/// <summary>Checks token ids before they reach an embedding table. An id outside the table otherwise fails deep inside
/// libtorch ("index out of range in self", or a device-side assert that ends a CUDA context) without saying which id.</summary>
public static class TokenIdChecks
{
    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="tokenIds"/> is int64 [B, <paramref name="contextLength"/>]
    /// with every id in 0..<paramref name="vocabularySize"/> − 1; the message names the first bad id and where it is.</summary>
    public static void RequireTextIds(Tensor tokenIds, int contextLength, int vocabularySize)
    {
        ArgumentNullException.ThrowIfNull(tokenIds);
        if (tokenIds.ndim != 2 || tokenIds.size(1) != contextLength)
            throw new ArgumentException($"token ids must be [B, {contextLength}], got [{string.Join(", ", tokenIds.shape)}]");
        if (tokenIds.dtype != ScalarType.Int64) throw new ArgumentException($"token ids must be int64, got {tokenIds.dtype}");
        RequireInVocabulary(tokenIds, vocabularySize);
    }

    /// <summary>Throws <see cref="ArgumentException"/> when an id of the int64 tensor <paramref name="tokenIds"/> (any
    /// shape) is outside 0..<paramref name="vocabularySize"/> − 1, naming the first such id in row-major order and its index.</summary>
    public static void RequireInVocabulary(Tensor tokenIds, long vocabularySize)
    {
        ArgumentNullException.ThrowIfNull(tokenIds);
        if (tokenIds.dtype != ScalarType.Int64) throw new ArgumentException($"token ids must be int64, got {tokenIds.dtype}");
        if (tokenIds.numel() == 0) return;
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        using var zero = 0L.ToScalar();
        using var limit = vocabularySize.ToScalar();
        var outside = tokenIds.lt(zero).logical_or(tokenIds.ge(limit));
        if (!outside.any().item<bool>()) return;
        // argmax returns the first of equal maxima: the first bad id in row-major order.
        long flat = outside.reshape(-1).to(ScalarType.Int32).argmax().item<long>();
        long id = tokenIds.reshape(-1)[flat].item<long>();
        var index = new long[tokenIds.ndim];
        for (int d = index.Length - 1; d >= 0; d--)
        {
            index[d] = flat % tokenIds.shape[d];
            flat /= tokenIds.shape[d];
        }
        throw new ArgumentException($"token id {id} at [{string.Join(", ", index)}] is outside the vocabulary (0..{vocabularySize - 1})");
    }
}
