using OpenVision.Training.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Training.Tests.Losses;

public class CaptionLossFromStatesTests
{
    // Applying the head only at real-token positions must give the loss of the full [B, Q, V] logits.
    [Fact]
    public void EqualsTheFullLogitsLoss()
    {
        var generator = new Generator(5);
        using var states = randn([3, 6, 4], dtype: ScalarType.Float64, generator: generator);
        using var weight = randn([11, 4], dtype: ScalarType.Float64, generator: generator);
        using var ids = tensor(new long[,] { { 1, 5, 7, 2, 0, 0 }, { 1, 3, 2, 0, 0, 0 }, { 1, 4, 4, 9, 10, 2 } });
        Tensor Head(Tensor x) => x.matmul(weight.T);
        using var full = CaptionLoss.FromCaptionIds(Head(states), ids);
        using var sparse = CaptionLoss.FromStates(states, Head, ids);
        Assert.Equal(full.item<double>(), sparse.item<double>(), 12);
    }
}
