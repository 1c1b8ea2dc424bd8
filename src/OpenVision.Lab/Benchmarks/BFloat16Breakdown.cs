using OpenVision.Configs;
using OpenVision.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OpenVision.Lab.Benchmarks;

/// <summary>One operation of a vision block timed in float32 and bfloat16 at a model's shapes.</summary>
/// <param name="Op">What ran, e.g. "linear fc1 768→3072".</param>
/// <param name="PerBlock">How often a block runs it.</param>
/// <param name="Float32Ms">Median milliseconds of one call in float32.</param>
/// <param name="BFloat16Ms">The same in bfloat16.</param>
/// <param name="IsLinear">A matrix product with weights (what bf16 hardware speeds up most).</param>
public sealed record OpTiming(string Op, int PerBlock, double Float32Ms, double BFloat16Ms, bool IsLinear)
{
    /// <summary>float32 time / bfloat16 time.</summary>
    public double SpeedUp => Float32Ms / BFloat16Ms;
}

/// <summary>Where a vision block's time goes in float32 and bfloat16: each operation of a pre-norm ViT block (layer
/// norms, the four linear layers with the skip connections, attention, GELU) timed alone on random tensors of
/// the model's shapes, so that the whole model's bf16/fp32 ratio can be read as a weighted mean of per-operation ratios.</summary>
public static class BFloat16Breakdown
{
    /// <summary>Times every block operation of <paramref name="config"/>'s vision tower at <paramref name="batchSize"/>,
    /// each for <paramref name="budget"/> per dtype (<see cref="EncodeBenchmark.MedianSeconds"/>).</summary>
    public static IReadOnlyList<OpTiming> Measure(ModelConfig config, int batchSize, TimeSpan budget)
    {
        ArgumentNullException.ThrowIfNull(config);
        var v = config.VisionCfg;
        int tokens = v.Tokens, width = v.Width, mlp = v.MlpWidth, heads = v.Heads;
        bool tanh = v.ActKwargs?.Approximate == ActConfig.Tanh;
        var rows = new List<OpTiming>();
        using var _ = no_grad();
        // Every operation runs as the model runs it (BFloat16Ops: the AVX512-BF16 kernels where they apply; attention
        // from the in_proj output to the merged heads, the copies around libtorch's included; the skip connections
        // added inside out_proj and c_proj, as a separate add where libtorch runs).
        // name, calls per block, linear?, operation on (x [B, L, W], hidden [B, L, M], qkv [B, L, 3W], weights) in one dtype
        var ops = new List<(string Name, int Count, bool Linear, Func<Tensors, Tensor> Run)>
        {
            ("layer norm", 2, false, t => BFloat16Ops.LayerNorm(t.X, t.Norm, 1e-6)),
            ($"linear qkv {width}→{3 * width}", 1, true, t => BFloat16Ops.Linear(t.X, t.Qkv, t.QkvBias, t.QkvPacked)),
            ($"attention {heads} heads × {v.HeadWidth}", 1, false, t => BFloat16Ops.Attention(t.Projected, heads) ?? SelfAttention.Attend(t.Projected, heads, null)),
            ($"linear out {width}→{width} + residual", 1, true, t => BFloat16Ops.Linear(t.X, t.Out, t.OutBias, t.OutPacked, t.X)),
        };
        // The exact GELU is computed inside c_fc (separately where libtorch runs); the tanh one is its own operation.
        if (tanh)
        {
            ops.Add(($"linear fc1 {width}→{mlp}", 1, true, t => BFloat16Ops.Linear(t.X, t.Fc1, t.Fc1Bias, t.Fc1Packed)));
            ops.Add(("gelu (tanh)", 1, false, t => nn.functional.gelu(t.Hidden, GELU.Approximate.tanh)));
        }
        else ops.Add(($"linear fc1 {width}→{mlp} + gelu", 1, true, t => BFloat16Ops.Linear(t.X, t.Fc1, t.Fc1Bias, t.Fc1Packed, gelu: true)));
        ops.Add(($"linear fc2 {mlp}→{width} + residual", 1, true, t => BFloat16Ops.Linear(t.Hidden, t.Fc2, t.Fc2Bias, t.Fc2Packed, t.X)));
        using var fp32 = new Tensors(batchSize, tokens, width, mlp, ScalarType.Float32);
        using var bf16 = new Tensors(batchSize, tokens, width, mlp, ScalarType.BFloat16);
        foreach (var (name, count, linear, run) in ops)
            rows.Add(new OpTiming(name, count, 1e3 * EncodeBenchmark.MedianSeconds(() => run(fp32).Dispose(), budget),
                                  1e3 * EncodeBenchmark.MedianSeconds(() => run(bf16).Dispose(), budget), linear));
        return rows;
    }

    /// <summary>One whole vision block as the model runs it (its forward: one native call where the float32 or bfloat16
    /// kernels apply), in float32 and in bfloat16, milliseconds per call (median).</summary>
    public static (double Float32Ms, double BFloat16Ms) WholeBlock(ModelConfig config, int batchSize, TimeSpan budget)
    {
        ArgumentNullException.ThrowIfNull(config);
        var v = config.VisionCfg;
        int tokens = v.Tokens;
        using var _ = no_grad();
        using var block = new ResidualAttentionBlock(v.Width, v.Width / v.HeadWidth, v.MlpWidth, v.NormKwargs.Eps, v.ActKwargs?.Approximate == ActConfig.Tanh);
        block.eval();
        using var x = randn([batchSize, tokens, v.Width], generator: new Generator(0));
        double fp32 = 1e3 * EncodeBenchmark.MedianSeconds(() => block.call(x, null).Dispose(), budget);
        block.to(ScalarType.BFloat16);
        using var xb = x.to(ScalarType.BFloat16);
        double bf16 = 1e3 * EncodeBenchmark.MedianSeconds(() => block.call(xb, null).Dispose(), budget);
        return (fp32, bf16);
    }

    /// <summary>Block time in one dtype: Σ calls × time.</summary>
    public static double BlockMs(IEnumerable<OpTiming> rows, bool bfloat16) => rows.Sum(r => r.PerBlock * (bfloat16 ? r.BFloat16Ms : r.Float32Ms));

    private sealed class Tensors : IDisposable
    {
        private readonly DisposeScope scope = NewDisposeScope();

        public Tensors(int batch, int tokens, int width, int mlp, ScalarType dtype)
        {
            var generator = new Generator(0);
            Tensor Random(params long[] shape) => randn(shape, generator: generator).to(dtype);
            X = Random(batch, tokens, width);
            Hidden = Random(batch, tokens, mlp);
            Projected = Random(batch, tokens, 3 * width);
            Norm = nn.LayerNorm(width, 1e-6);
            using (no_grad())
            {
                Norm.weight!.copy_(randn(width, generator: generator));
                Norm.bias!.copy_(randn(width, generator: generator));
            }
            Norm.to(dtype);
            Qkv = Random(3 * width, width);
            QkvBias = Random(3 * width);
            Out = Random(width, width);
            OutBias = Random(width);
            Fc1 = Random(mlp, width);
            Fc1Bias = Random(mlp);
            Fc2 = Random(width, mlp);
            Fc2Bias = Random(width);
        }

        public Tensor X { get; }
        public Tensor Hidden { get; }
        public Tensor Projected { get; }
        public LayerNorm Norm { get; }
        public Tensor Qkv { get; }
        public Tensor QkvBias { get; }
        public Tensor Out { get; }
        public Tensor OutBias { get; }
        public Tensor Fc1 { get; }
        public Tensor Fc1Bias { get; }
        public Tensor Fc2 { get; }
        public Tensor Fc2Bias { get; }
        public PackedWeight QkvPacked { get; } = new();
        public PackedWeight OutPacked { get; } = new();
        public PackedWeight Fc1Packed { get; } = new();
        public PackedWeight Fc2Packed { get; } = new();

        public void Dispose()
        {
            foreach (var packed in new[] { QkvPacked, OutPacked, Fc1Packed, Fc2Packed }) packed.Dispose();
            Norm.Dispose();
            scope.Dispose();
        }
    }
}
