namespace OpenVision;

/// <summary>What <see cref="OpenVisionRuntime.Configure"/> decided, for logs and <c>openvision info</c>.</summary>
/// <param name="MklDispatch">"enabled", or why not (not applicable, disabled, not needed, unavailable, failed).</param>
/// <param name="HeapTuning">"enabled", or why not (not applicable, disabled, left to the environment, partly applied).</param>
/// <param name="TorchLoadedBefore">True when libtorch was already loaded when Configure ran: the shim was not loaded then,
/// because MKL may already have made its CPU dispatch decision.</param>
public sealed record OpenVisionRuntimeReport(string MklDispatch, string HeapTuning, bool TorchLoadedBefore)
{
    /// <summary>True when the MKL shim is loaded.</summary>
    public bool MklShimLoaded => MklDispatch == "enabled";

    /// <summary>True when the allocator settings were applied.</summary>
    public bool HeapTuned => HeapTuning == "enabled";
}
