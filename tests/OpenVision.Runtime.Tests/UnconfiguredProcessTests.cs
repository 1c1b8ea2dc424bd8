using OpenVision.Configs;
using OpenVision.Native;
using TorchSharp;

namespace OpenVision.Runtime.Tests;

/// <summary>The library changes nothing in the process until the host calls <see cref="OpenVisionRuntime.Configure"/>.
/// One test, because the first Configure call decides for the whole process.</summary>
public class UnconfiguredProcessTests
{
    private static bool IsAmd => File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").Any(l => l.StartsWith("vendor_id") && l.Contains("AuthenticAMD"));

    [Fact]
    public void BuildingAndRunningAModelLeavesTheProcessAloneUntilConfigureIsCalled()
    {
        Assert.Null(OpenVisionRuntime.Current);
        Assert.True(ModelRegistry.TryGet("openvision-vit-tiny-patch16-160", out var config));
        using (var model = ModelFactory.Create(config!))
        using (var pixels = torch.zeros(2, 3, 160, 160))
        using (var features = model.EncodeImage(pixels))
            Assert.Equal(new long[] { 2, config!.EmbedDim }, features.shape);

        Assert.Null(OpenVisionRuntime.Current);
        Assert.Equal(OpenVisionRuntime.NotConfigured, MklCpuDispatch.Status);
        Assert.Equal(OpenVisionRuntime.NotConfigured, HeapTuning.Status);
        Assert.True(NativeLibraries.IsLoaded("libtorch_cpu"));                        // the probe sees libraries that are there…
        Assert.False(NativeLibraries.IsLoaded(Path.GetFileNameWithoutExtension(MklCpuDispatch.ShimFileName)));   // …and no shim
        bool glibc = OperatingSystem.IsLinux() && GlibcHeap.Observable;
        bool heapByDefault = Environment.GetEnvironmentVariable("OPENVISION_HEAP_TUNING") != "0"
            && !new[] { "MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_" }.Any(v => Environment.GetEnvironmentVariable(v) is not null);
        if (glibc && heapByDefault) Assert.True(GlibcHeap.LargeBlockIsMapped());      // glibc's defaults are untouched

        var report = OpenVisionRuntime.Configure();

        Assert.Same(report, OpenVisionRuntime.Current);
        Assert.Same(report, OpenVisionRuntime.Configure(new OpenVisionRuntimeOptions { HeapTuning = false, MklCpuShim = false }));   // the first call decides
        Assert.True(report.TorchLoadedBefore);
        Assert.Equal(report.HeapTuning, HeapTuning.Status);
        Assert.Equal(report.MklDispatch, MklCpuDispatch.Status);
        if (glibc && heapByDefault)
        {
            Assert.Equal("enabled", report.HeapTuning);
            Assert.False(GlibcHeap.LargeBlockIsMapped());                               // now served from the heap
        }
        // Called after libtorch was loaded: too late for MKL, and said so; the shim stays out of the process.
        bool shimApplies = OperatingSystem.IsLinux() && IsAmd && File.Exists(Path.Combine(AppContext.BaseDirectory, MklCpuDispatch.ShimFileName))
            && Environment.GetEnvironmentVariable("OPENVISION_MKL_CPU_SHIM") != "0";
        if (shimApplies) Assert.StartsWith("too late", report.MklDispatch);
        Assert.False(report.MklShimLoaded);
        Assert.False(NativeLibraries.IsLoaded(Path.GetFileNameWithoutExtension(MklCpuDispatch.ShimFileName)));
    }
}
