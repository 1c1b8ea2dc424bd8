using OpenVision.Captioning;
using OpenVision.Tests.Fixtures;
using OpenVision.Tests.Parity;
using OpenVision.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Text;

/// <summary>Token ids outside the embedding table are refused by the public entry points with a line naming the first
/// bad id and its index, instead of failing inside libtorch.</summary>
public class TokenIdChecksTests
{
    private static Tensor Ids(long rows, int columns, params (int Row, int Column, long Id)[] set)
    {
        var ids = torch.zeros(rows, columns, ScalarType.Int64);
        foreach (var (r, c, id) in set)
        {
            using var value = torch.tensor(id);
            ids[r, c] = value;
        }
        return ids;
    }

    [Theory]
    [InlineData(32000L, "token id 32000 at [2, 5] is outside the vocabulary (0..31999)")]
    [InlineData(-5L, "token id -5 at [2, 5] is outside the vocabulary (0..31999)")]
    public void EncodeTokenIdsNamesTheFirstIdOutsideTheVocabulary(long bad, string expected)
    {
        using var encoder = OpenVisionEncoder.Load(ReferenceModels.Folder("ovtest-mini-p16-64"));
        // Rows 2 and 3 are bad; the first in row-major order is named, with its index in the caller's tensor.
        using var ids = Ids(4, 80, (2, 5, bad), (3, 0, bad));
        Assert.Equal(expected, Assert.Throws<ArgumentException>(() => encoder.EncodeTokenIds(ids)).Message);
        Assert.Equal(expected, Assert.Throws<ArgumentException>(() => ((Backends.TorchSharpBackend)encoder.Backend).Model.EncodeText(ids)).Message);

        using var edges = Ids(2, 80, (0, 0, 31999), (1, 79, 0));   // control: the first and last ids are fine
        using var features = encoder.EncodeTokenIds(edges);
        Assert.Equal([2L, encoder.Config.EmbedDim], features.shape);
    }

    [Fact]
    public void EncodeTokenIdsNamesAWrongContextLength()
    {
        using var encoder = OpenVisionEncoder.Load(ReferenceModels.Folder("ovtest-mini-p16-64"));
        using var ids = torch.zeros(1, 500, ScalarType.Int64);
        Assert.Equal("token ids must be [B, 80], got [1, 500]", Assert.Throws<ArgumentException>(() => encoder.EncodeTokenIds(ids)).Message);
    }

    [Fact]
    public void CaptionDecoderRefusesIdsOutsideItsTable()
    {
        var config = CaptionDecoderConfig.Load(Path.Combine(TestFiles.Fixture("ov2", "ov2-mini-a"), CaptionDecoderConfig.FileName));
        using var decoder = new OpenVision2Decoder(config);
        using var image = torch.zeros(1, 3, config.VisionWidth);
        using var ids = torch.tensor(new long[] { config.BosId, config.VocabSize }, ScalarType.Int64).unsqueeze(0);
        Assert.Equal($"token id {config.VocabSize} at [0, 1] is outside the vocabulary (0..{config.VocabSize - 1})",
            Assert.Throws<ArgumentException>(() => decoder.HiddenStates(image, ids, CaptionMask.Causal)).Message);
    }
}
