using System.Runtime.CompilerServices;

namespace OpenVision.TestSupport;

/// <summary>Points the test process's <c>$XDG_CACHE_HOME</c>, and so that of every CLI and server it starts, at a folder
/// beside the test assembly. Tests that run <c>bench</c>, export ONNX graphs or measure a backend choice would otherwise
/// write the user's <c>~/.cache/openvision</c>: a peak measured while the suite kept both cores busy (a quarter of the
/// real one) was then what the user's next <c>bench</c> divided by.</summary>
internal static class IsolatedUserCache
{
#pragma warning disable CA2255 // a test assembly is the application here, not a library
    [ModuleInitializer]
    internal static void Isolate() =>
        Environment.SetEnvironmentVariable("XDG_CACHE_HOME", Path.Combine(AppContext.BaseDirectory, "user-cache"));
#pragma warning restore CA2255
}
