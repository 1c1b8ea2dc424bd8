using Microsoft.ML.OnnxRuntime;

namespace OpenVision.Onnx;

/// <summary>How ONNX Runtime sessions are created: threads, spinning and graph optimisation (always all levels).</summary>
public sealed record OnnxRuntimeOptions
{
    /// <summary>Threads for one operator; 0 lets ONNX Runtime choose (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Whether idle intra-op threads spin before sleeping (ONNX Runtime's default). Spinning saves the wake-up of
    /// every parallel operator on an otherwise idle machine; where other processes compete for the cores it burns the
    /// time slices the working threads need (on a 2-core machine at load 20, Tiny/16-224 batch 1 ran 2.5–3× slower with
    /// spinning), so turn it off on shared or oversubscribed machines.</summary>
    public bool AllowSpinning { get; init; } = true;

    /// <summary>Which exported variant to load (the export folder must contain it).</summary>
    public OnnxPrecision Precision { get; init; } = OnnxPrecision.Float32;

    /// <summary>Session options for one tower: sequential execution, every graph optimisation, the thread count and spinning.</summary>
    public SessionOptions CreateSessionOptions()
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (IntraOpThreads > 0) options.IntraOpNumThreads = IntraOpThreads;
        if (!AllowSpinning) options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return options;
    }
}
