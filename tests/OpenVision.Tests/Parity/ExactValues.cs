using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Parity;

/// <summary>Inputs whose bfloat16 arithmetic has a known exact answer.</summary>
internal static class ExactValues
{
    /// <summary>bfloat16 integers in [−bound, bound] times <paramref name="scale"/> (a power of two): exact in bfloat16,
    /// and their products' float32 sums stay exact while they stay below 2^24 units of the last place.</summary>
    public static Tensor SmallIntegers(Generator generator, int bound, double scale, params long[] shape) =>
        (randint(-bound, bound + 1, shape, generator: generator) * scale).to(ScalarType.BFloat16);
}
