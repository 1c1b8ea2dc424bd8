using Microsoft.ML.OnnxRuntime;

namespace OpenVision.Onnx;

/// <summary>How ONNX Runtime sessions are created: threads and graph optimisation (always all levels).</summary>
public sealed record OnnxRuntimeOptions
{
    /// <summary>Threads for one operator; 0 lets ONNX Runtime choose (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Which exported variant to load (the export folder must contain it).</summary>
    public OnnxPrecision Precision { get; init; } = OnnxPrecision.Float32;

    /// <summary>Session options for one tower: sequential execution, every graph optimisation, the thread count.</summary>
    public SessionOptions CreateSessionOptions()
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (IntraOpThreads > 0) options.IntraOpNumThreads = IntraOpThreads;
        return options;
    }
}
