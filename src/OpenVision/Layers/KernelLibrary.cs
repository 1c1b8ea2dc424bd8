using OpenVision.Native;
using TorchSharp;

namespace OpenVision.Layers;

/// <summary>A kernel shim that runs on libtorch's OpenMP threads, loaded on first use, whose init returns 0 (the CPU
/// lacks the instructions), 1 (libtorch's OpenMP runtime was not found), 2 (ready) or 3 (the CPU has AMX, whose
/// tile products libtorch's oneDNN uses instead).</summary>
internal sealed class KernelLibrary<T>(string fileName, string optOutVariable, Func<IntPtr, T> create, Func<T, int> init, string ready,
    string instructions) where T : class
{
    private readonly Lazy<(T? Kernels, string Status, bool LacksInstructions)> loaded =
        new(() => Load(fileName, optOutVariable, create, init, ready, instructions));

    /// <summary>The kernels, or null where libtorch runs instead.</summary>
    public T? Kernels => loaded.Value.Kernels;

    /// <summary><c>ready</c>, or "libtorch (why)".</summary>
    public string Status => loaded.Value.Status;

    /// <summary>True when the library loaded and its init found the CPU without the instructions it needs (where a
    /// library for other instructions may serve instead).</summary>
    public bool LacksInstructions => loaded.Value.LacksInstructions;

    private static (T?, string, bool) Load(string fileName, string optOutVariable, Func<IntPtr, T> create, Func<T, int> init, string ready, string instructions)
    {
        if (NativeLibraries.TryLoadShipped(fileName, optOutVariable, out var handle) is { } whyNot) return (null, $"libtorch ({whyNot})", false);
        var kernels = create(handle);
        using (torch.empty(1)) { } // libtorch must be loaded: the kernels run on its OpenMP threads
        return init(kernels) switch
        {
            2 => (kernels, ready, false),
            1 => (null, $"libtorch (its OpenMP runtime was not found for the {ready})", false),
            3 => (null, $"libtorch (the CPU has AMX, whose tile products libtorch's oneDNN uses: faster than the {ready})", false),
            _ => (null, $"libtorch (the CPU has no {instructions})", true),
        };
    }
}
