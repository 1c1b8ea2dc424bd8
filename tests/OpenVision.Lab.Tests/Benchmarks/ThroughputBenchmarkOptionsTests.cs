using OpenVision.Lab.Benchmarks;

namespace OpenVision.Lab.Tests.Benchmarks;

/// <summary><c>bench</c>'s options are refused before anything runs where they would exhaust memory or time nothing.</summary>
public class ThroughputBenchmarkOptionsTests
{
    [Fact]
    public void BatchSizesAreBoundedAndTheBudgetMustBePositive()
    {
        Assert.Equal("--batch-sizes must be at most 1024, not 100000",
            Assert.Throws<ArgumentException>(() => new ThroughputBenchmarkOptions { BatchSizes = [1, 100_000] }.Validate()).Message);
        Assert.Equal("--seconds must be positive, not 0",
            Assert.Throws<ArgumentException>(() => new ThroughputBenchmarkOptions { Budget = TimeSpan.Zero }.Validate()).Message);
        var largest = new ThroughputBenchmarkOptions { BatchSizes = [ThroughputBenchmarkOptions.MaxBatchSize] };
        Assert.Same(largest, largest.Validate());
    }
}
