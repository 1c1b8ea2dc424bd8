using OpenVision.Configs;
using OpenVision.Layers;
using OpenVision.Native;
using TorchSharp;
using TorchSharp.Modules;
using Transformer = OpenVision.Layers.Transformer;
using static TorchSharp.torch;

namespace OpenVision.Models;

/// <summary>open_clip's <c>VisionTransformer</c> as OpenVision configures it; field names are checkpoint keys under <c>visual.</c>.</summary>
public sealed class VisionTransformer : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly Parameter class_embedding, positional_embedding, proj;
    private readonly LayerNorm? ln_pre;
    private readonly Transformer transformer;
    private readonly LayerNorm ln_post;
    private readonly VisionConfig config;
    private readonly Dictionary<int, Tensor> positionTables = new();
    private readonly PackedWeight patchPacked = new(), projPacked = new();
    private bool? storedTableIsSinCos;

    /// <summary>Builds the tower with open_clip's initial values (class token, table and projection ~ N(0, width^-1)).</summary>
    public VisionTransformer(VisionConfig config, int embedDim) : base(nameof(VisionTransformer))
    {
        this.config = config;
        int width = config.Width, grid = config.GridSize;
        double scale = Math.Pow(width, -0.5);
        conv1 = nn.Conv2d(config.InChannels, width, config.PatchSize, stride: config.PatchSize, bias: false);
        class_embedding = nn.Parameter(ScaledNormal(scale, width));
        positional_embedding = nn.Parameter(width % 4 == 0
            ? SinCosPositionalEmbedding.Create(grid, width)       // OpenVision's fixed table
            : ScaledNormal(scale, grid * grid + 1, width));
        if (!config.NoLnPre) ln_pre = nn.LayerNorm(width, config.NormKwargs.Eps);
        transformer = new Transformer(width, config.Layers, config.Heads, config.MlpWidth, config.NormKwargs.Eps,
            tanhGelu: config.ActKwargs?.IsTanh == true);
        ln_post = nn.LayerNorm(width, config.NormKwargs.Eps);
        proj = nn.Parameter(ScaledNormal(scale, width, embedDim));
        RegisterComponents();
    }

    // randn(shape) * scale with the temporaries disposed and the Scalar alive until mul returns (see KeptScalars).
    private static Tensor ScaledNormal(double scale, params long[] shape)
    {
        using var normal = torch.randn(shape);
        using var factor = scale.ToScalar();
        return normal.mul(factor);
    }

    /// <summary>The architecture.</summary>
    public VisionConfig Config => config;

    /// <summary>Number of residual blocks.</summary>
    public int Layers => transformer.Layers;

    internal Transformer Blocks => transformer;

    // The model reads its dtype and device from here when it has no text tower.
    internal Parameter Projection => proj;

    /// <summary>Pooled and projected image features [B, E].</summary>
    public override Tensor forward(Tensor pixels) => Forward(pixels, EmptyLayers).Pooled;

    private static readonly IReadOnlySet<int> EmptyLayers = new HashSet<int>();

    /// <summary>The full forward pass, also returning last-block patch tokens and requested block outputs.</summary>
    /// <param name="pixels">[B, C, S, S] normalized images; S need not be the config's size (see <see cref="PositionTable"/>).</param>
    /// <param name="layers">0-based block indices whose outputs [B, 1+G, W] (class token first) to return.</param>
    public VisionOutput Forward(Tensor pixels, IReadOnlySet<int> layers)
    {
        if (pixels.ndim != 4 || pixels.size(1) != config.InChannels)
            throw new ArgumentException($"pixels must be [B, {config.InChannels}, H, W], got [{string.Join(", ", pixels.shape)}]");
        long side = pixels.size(2);
        if (side != pixels.size(3) || side < config.PatchSize)
            throw new ArgumentException($"pixels must be square and at least {config.PatchSize} px, got {pixels.shape[2]}×{pixels.shape[3]}");
        int grid = (int)(side / config.PatchSize);

        var x = Tokens(pixels, grid);                                           // [B, 1+g², W]
        if (ln_pre is not null) x = BFloat16Ops.LayerNorm(x, ln_pre, config.NormKwargs.Eps);

        x = transformer.ForwardCollecting(x, null, layers, out var hidden);     // [B, 1+g², W]

        Tensor pooled, tokens;
        if (config.FinalLnAfterPool)
        {
            tokens = x[.., 1..];                                                // raw patch tokens, no ln_post
            var features = BFloat16Ops.Head(x, config.PoolType == VisionPoolType.Avg, ln_post, config.NormKwargs.Eps, proj, projPacked);
            if (features is not null) return new VisionOutput(features, tokens, hidden);
            pooled = ln_post.call(Pool(x));
        }
        else
        {
            var normed = ln_post.call(x);
            tokens = normed[.., 1..];
            pooled = Pool(normed);
        }
        return new VisionOutput(BFloat16Ops.Project(pooled, proj, projPacked), tokens, hidden);
    }

    // The class token and the embedded patches, the positional table added: one native call where the kernels apply
    // (at inference; the same bits in float32, one rounding instead of two in bfloat16), otherwise the patch embedding,
    // libtorch's concatenation and its addition. Pixels of another type than the weights are cast to it, unless the
    // kernels take them as they are (the bfloat16 kernels round float32 pixels as they cut out the patches).
    private Tensor Tokens(Tensor pixels, int grid)
    {
        var table = PositionTable(grid);
        var weight = conv1.weight!;
        if (NativeTokens(pixels, table) is { } tokens) return tokens;
        using var cast = pixels.dtype == weight.dtype ? null : pixels.to(weight.dtype);
        if (cast is not null && NativeTokens(cast, table) is { } castTokens) return castTokens;
        var x = PatchEmbedding(cast ?? pixels);                                 // [B, W, g, g]
        x = x.flatten(2).transpose(1, 2);                                       // [B, g², W], row-major patches
        var cls = class_embedding.to(x.dtype).view(1, 1, -1).expand(x.size(0), 1, -1);
        x = torch.cat([cls, x], 1);                                             // [B, 1+g², W]
        return x.add(table.to(x.dtype, x.device), KeptScalars.One);             // explicit alpha: see KeptScalars
    }

    // The tokens in one native call, or null where neither kernel library takes these pixels.
    private Tensor? NativeTokens(Tensor pixels, Tensor table)
    {
        using var scope = torch.NewDisposeScope();
        var weight = conv1.weight!;
        var filters = weight.view(weight.size(0), -1);                                 // [W, C·p·p], the (c, y, x) order
        var positions = table.to(weight.dtype, pixels.device);
        var tokens = Float32Ops.Embed(pixels, config.PatchSize, filters, patchPacked, class_embedding, positions)
            ?? BFloat16Ops.Embed(pixels, config.PatchSize, filters, patchPacked, class_embedding, positions);
        return tokens?.MoveToOuterDisposeScope();
    }

    // For a bfloat16 model the patch embedding runs in float32 on the (already rounded) pixels and weights and is rounded
    // once on output. oneDNN 3.7's bfloat16 direct convolution (jit_bf16, chosen wherever the CPU has AVX-512) drops
    // part of the sum for the output channels past the last multiple of 16: ones ⊛ ones over a 14×14×3 patch gives 568
    // instead of 588 in channels 64–71 of a width-72 model, and random inputs come out 10–40 % off in those channels
    // (pytorch/pytorch#163347). Widths that are multiples of 16 (every released config) are not affected; float32
    // convolutions and bfloat16 matmuls are correct. The cost is one float32 GEMM of 1–5 % of the model's FLOPs.
    // Where the bfloat16 kernels run, the patches are cut out and multiplied by the flattened filters there instead:
    // the same arithmetic (exact products, float32 sums, one rounding) at bfloat16 speed.
    // Float32 models take the same route through the float32 kernels where they run (at inference), where libtorch's
    // convolution took 1.0–1.75 times as long (docs/speed.md); training keeps the convolution.
    internal Tensor PatchEmbedding(Tensor pixels)
    {
        var weight = conv1.weight!;
        bool float32 = weight.dtype == ScalarType.Float32 && pixels.dtype == ScalarType.Float32 && Float32Ops.Available;
        bool bfloat16 = weight.dtype == ScalarType.BFloat16 && pixels.dtype == ScalarType.BFloat16 && BFloat16Ops.Available;
        if (!float32 && weight.dtype is not (ScalarType.BFloat16 or ScalarType.Float16)) return conv1.call(pixels);
        using var scope = torch.NewDisposeScope();
        var filters = weight.view(weight.size(0), -1);                                  // [W, C·p·p]
        // Checked before the patches are cut out: where autograd records, the convolution runs without that copy.
        float32 = float32 && Float32Ops.LinearWeightFits(filters, null);
        if (float32 || bfloat16)
        {
            long batch = pixels.size(0), channels = pixels.size(1), p = config.PatchSize, grid = pixels.size(2) / p;
            var patches = pixels[.., .., ..(int)(grid * p), ..(int)(grid * p)]          // a stride-p convolution drops the rest
                .reshape(batch, channels, grid, p, grid, p).permute(0, 2, 4, 1, 3, 5)  // [B, g, g, C, p, p]
                .reshape(batch, grid * grid, channels * p * p);                         // (C, p, p): the filters' order
            var embedded = float32 ? Float32Ops.Linear(patches, filters, null, patchPacked) : BFloat16Ops.Linear(patches, filters, null, patchPacked);
            if (embedded is not null)                                                   // null: the pixels need a gradient
                return embedded.transpose(1, 2).view(batch, -1, grid, grid).MoveToOuterDisposeScope();      // [B, W, g, g]
        }
        if (weight.dtype is not (ScalarType.BFloat16 or ScalarType.Float16)) return conv1.call(pixels).MoveToOuterDisposeScope();
        var wide = nn.functional.conv2d(pixels.to(ScalarType.Float32), weight.to(ScalarType.Float32),
            strides: [config.PatchSize, config.PatchSize]);
        return wide.to(weight.dtype).MoveToOuterDisposeScope();
    }

    // open_clip _global_pool: "avg" excludes the class token; "tok" takes it.
    private Tensor Pool(Tensor x) => config.PoolType == VisionPoolType.Avg ? x[.., 1..].mean([1]) : x[.., 0];

    /// <summary>The positional table for a grid of <paramref name="grid"/>² patches: the stored table at the
    /// config's grid, otherwise the 2-D sin-cos table recomputed for the new grid, as OpenVision's training code does.</summary>
    public Tensor PositionTable(int grid)
    {
        if (grid == config.GridSize) return positional_embedding;
        storedTableIsSinCos ??= IsSinCos();
        if (!storedTableIsSinCos.Value)
            throw new InvalidOperationException($"this model's positional table is not a 2-D sin-cos table, so it cannot run at a {grid}×{grid} grid (only {config.GridSize}×{config.GridSize})");
        lock (positionTables)
        {
            if (!positionTables.TryGetValue(grid, out var table))
            {
                table = SinCosPositionalEmbedding.Create(grid, config.Width);
                table.DetachFromDisposeScope();
                positionTables[grid] = table;
            }
            return table;
        }
    }

    private bool IsSinCos() => SinCosPositionalEmbedding.Matches(positional_embedding, config.GridSize, config.Width);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var t in positionTables.Values) t.Dispose();
            patchPacked.Dispose();
            projPacked.Dispose();
        }
        positionTables.Clear();
        base.Dispose(disposing);
    }
}

/// <summary>Outputs of <see cref="VisionTransformer.Forward"/>.</summary>
/// <param name="Pooled">Projected image features [B, E], not normalized.</param>
/// <param name="Tokens">Last-block patch tokens [B, G, W] (class token dropped; no ln_post for OpenVision).</param>
/// <param name="Hidden">Requested block outputs [B, 1+G, W] by 0-based block index.</param>
public sealed record VisionOutput(Tensor Pooled, Tensor Tokens, IReadOnlyDictionary<int, Tensor> Hidden);
