using OpenVision.Native;
using static TorchSharp.torch;

namespace OpenVision.Tests.Native;

public class TensorSizesTests
{
    [Fact]
    public void AreComparesEveryDimensionAndTheirCount()
    {
        using var t = zeros(2, 3, 4);
        Assert.True(TensorSizes.Are(t, 2, 3, 4));
        Assert.False(TensorSizes.Are(t, 2, 3));
        Assert.False(TensorSizes.Are(t, 2, 3, 4, 1));
        Assert.False(TensorSizes.Are(t, 2, 4, 3));
        using var scalar = tensor(1f);
        Assert.True(TensorSizes.Are(scalar));
        Assert.False(TensorSizes.Are(scalar, 1));
    }

    [Fact]
    public void TheLastSizeCanBeReadReplacedAndCompared()
    {
        using var x = zeros(2, 5, 6);
        Assert.Equal(6, TensorSizes.Last(x));
        Assert.Equal([2L, 5, 9], TensorSizes.WithLast(x, 9));
        using var y = zeros(2, 5, 9);
        Assert.True(TensorSizes.AreLike(y, x, 9));
        Assert.False(TensorSizes.AreLike(y, x, 6));
        using var other = zeros(2, 4, 9);
        Assert.False(TensorSizes.AreLike(other, x, 9));
        using var flat = zeros(10, 9);
        Assert.False(TensorSizes.AreLike(flat, x, 9));
        using var strided = zeros(2, 9, 5).transpose(1, 2);
        Assert.True(TensorSizes.AreLike(strided, x, 9));
    }
}
