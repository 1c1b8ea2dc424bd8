using System.Runtime.CompilerServices;

namespace OpenVision.Serving.Tests;

/// <summary>The test process is the host application: like the CLI, it opts into the process-wide tuning before any
/// test touches a tensor, so tests run on the kernels and allocator settings users of the CLI get.</summary>
internal static class RuntimeSetup
{
#pragma warning disable CA2255 // a test assembly is the application here, not a library
    [ModuleInitializer]
    internal static void Configure() => OpenVisionRuntime.Configure();
#pragma warning restore CA2255
}
