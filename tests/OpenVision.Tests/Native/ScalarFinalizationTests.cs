using OpenVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.Tests.Native;

/// <summary>The regression guard: inference must leave no Scalar (or Tensor) to the finalizer. Anything it does
/// leave there was unreachable while native code could still use it, which is the race of
/// <see cref="ScalarRaceTests"/> whether or not a run happens to hit it.</summary>
[Collection(nameof(ScalarLifetimeCollection))]
public class ScalarFinalizationTests
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(30);

    // The counter must see what it is meant to catch, or a zero below would prove nothing.
    [Fact]
    public void CounterSeesTheTemporaryScalarsOfOperatorsWithNumbers()
    {
        using var counter = new FinalizationCounter();
        counter.Settle(EventTimeout);
        counter.Reset();
        using (var scope = NewDisposeScope())
        {
            var x = ones(3);
            _ = x + x;       // alpha = 1 becomes a temporary Scalar
            _ = x * 0.5;     // and so does 0.5
        }
        counter.Settle(EventTimeout);
        Assert.True(counter.Scalars >= 2, $"{counter.Scalars} Scalar finalizations seen, at least 2 expected");
    }

    [Theory]
    [InlineData(ThreadLayout.AllThreads)]
    [InlineData(ThreadLayout.BatchParts)]   // parts run on thread-pool threads, which have no dispose scope
    public void InferenceLeavesNoScalarOrTensorToTheFinalizer(ThreadLayout layout)
    {
        using var workload = new InferenceWorkload(layout);
        using var counter = new FinalizationCounter();
        foreach (var t in workload.Run()) t.Dispose();      // first call: lazy tables and caches are built
        counter.Settle(EventTimeout);
        counter.Reset();
        for (int i = 0; i < 3; i++)
            foreach (var t in workload.Run()) t.Dispose();
        counter.Settle(EventTimeout);
        Assert.True(counter.Scalars == 0 && counter.Tensors == 0,
            $"inference left {counter.Scalars} Scalars and {counter.Tensors} Tensors to the finalizer (use Native.KeptScalars, " +
            "explicit alpha overloads and dispose scopes; see KeptScalars' remarks)");
    }
}
