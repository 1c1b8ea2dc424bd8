using OpenVision.Configs;
using TorchSharp;
using static TorchSharp.torch;
using DataType = OpenVision.Onnx.Proto.TensorProto.Types.DataType;

namespace OpenVision.Onnx.Graph;

/// <summary>The vision tower as an ONNX graph: <c>pixels</c> [N, 3, S, S] → <c>image_features</c> [N, E]
/// (and optionally <c>image_tokens</c> [N, G, W]), following open_clip's VisionTransformer as OpenVision configures it.</summary>
internal static class VisionGraph
{
    public const string PixelsName = "pixels";
    public const string FeaturesName = "image_features";
    public const string TokensName = "image_tokens";

    /// <param name="writer">Writer over the model's state dict.</param>
    /// <param name="config">Vision architecture.</param>
    /// <param name="embedDim">Output width E.</param>
    /// <param name="imageSize">The fixed input size (the graph declares a symbolic one when <paramref name="positionTable"/> is null).</param>
    /// <param name="positionTable">The table [1+g², W] for the fixed size; null for dynamic resolution (computed in the graph).</param>
    /// <param name="tokens">Also output the last block's patch tokens.</param>
    public static void Write(TowerWriter writer, VisionConfig config, int embedDim, int imageSize, Tensor? positionTable, bool tokens)
    {
        bool dynamicResolution = positionTable is null;
        Check(config);
        var g = writer.Graph;
        int width = config.Width, patch = config.PatchSize;
        object size = dynamicResolution ? "size" : (long)imageSize;
        long grid = imageSize / patch;
        string pixels = g.Input(PixelsName, DataType.Float, "batch", (long)config.InChannels, size, size);
        string x = writer.ComputeType == DataType.Float ? pixels : g.Node("Cast", [pixels], null, new OnnxAttribute("to", (long)writer.ComputeType));

        // Patch embedding: a stride-P convolution without bias; trailing pixels that do not fill a patch are ignored, as in PyTorch.
        x = g.Node("Conv", [x, writer.Weight("visual.conv1.weight")], null,
            new OnnxAttribute("kernel_shape", new long[] { patch, patch }), new OnnxAttribute("strides", new long[] { patch, patch }));
        x = g.Node("Reshape", [x, g.Int64s(0, width, -1)]);                          // [N, W, g²]
        x = g.Node("Transpose", [x], null, new OnnxAttribute("perm", new long[] { 0, 2, 1 })); // [N, g², W], row-major patches

        // Class token first, broadcast over the batch: Expand to [N, 1, W].
        string batch = g.Node("Shape", [pixels], null, new OnnxAttribute("start", 0L), new OnnxAttribute("end", 1L));
        string clsShape = g.Node("Concat", [batch, g.Int64s(1, width)], null, new OnnxAttribute("axis", 0L));
        using (var cls = writer.State("visual.class_embedding"))
            x = g.Node("Concat", [g.Node("Expand", [writer.Constant("visual.class_embedding", cls.view(1, 1, width)), clsShape]), x], null,
                new OnnxAttribute("axis", 1L));                                     // [N, 1+g², W]
        string positions;
        if (positionTable is null) positions = SinCosTable(writer, pixels, patch, width);
        else using (var table = positionTable.detach().clone()) positions = writer.Constant("visual.positional_embedding", table);
        x = g.Node("Add", [x, positions]);

        for (int i = 0; i < config.Layers; i++)
            x = writer.Block(x, $"visual.transformer.resblocks.{i}", width, config.Heads, config.NormKwargs.Eps, tanhGelu: config.ActKwargs?.IsTanh == true);

        // open_clip pool_type "avg" with final_ln_after_pool: mean over patch tokens (class token excluded), then ln_post.
        string patches = g.Node("Slice", [x, g.Int64s(1), g.Int64s(long.MaxValue), g.Int64s(1)]);   // [N, g², W]
        string pooled = g.Node("ReduceMean", [patches], null, new OnnxAttribute("axes", new long[] { 1 }), new OnnxAttribute("keepdims", 0L));
        pooled = writer.LayerNorm(pooled, "visual.ln_post", config.NormKwargs.Eps);
        string features = writer.Project(pooled, "visual.proj");                      // [N, E]
        Emit(writer, features, FeaturesName, "batch", (long)embedDim);
        if (tokens) Emit(writer, patches, TokensName, "batch", dynamicResolution ? "patches" : grid * grid, (long)width);
    }

    private static void Emit(TowerWriter writer, string value, string name, params object[] dims)
    {
        var g = writer.Graph;
        if (writer.ComputeType != DataType.Float) value = g.Node("Cast", [value], null, new OnnxAttribute("to", (long)DataType.Float));
        g.Output(value, name, DataType.Float, dims);
    }

    // The 2-D sin-cos table for the input's grid (g = H / P), as SinCosPositionalEmbedding builds it, with the zero class row:
    // per patch t = row·g + col: [sin(col·ω), cos(col·ω), sin(row·ω), cos(row·ω)], ω_k = 1 / 10000^(k / (W/4 − 1)).
    private static string SinCosTable(TowerWriter writer, string pixels, int patch, int width)
    {
        var g = writer.Graph;
        int quarter = width / 4;
        Tensor omega;
        using (var scope = NewDisposeScope())                                         // the same float32 ops as the TorchSharp table
        {
            // Every number as a Scalar held until its operator returns (TorchSharp's temporaries can be freed early).
            using var start = 0.ToScalar();
            using var stop = quarter.ToScalar();
            using var step = 1.ToScalar();
            using var last = ((float)Math.Max(quarter - 1, 1)).ToScalar();
            using var one = 1.0f.ToScalar();
            var k = arange(start, stop, step, dtype: ScalarType.Float32).div(last);
            omega = pow(tensor(10000.0f), k).reciprocal().mul(one).view(1, quarter).MoveToOuterDisposeScope();
        }
        string omegaName;
        using (omega) omegaName = g.Initializer("visual.sincos_omega", DataType.Float, [1, quarter], Checkpoints.TensorData.FromTorch(omega).Bytes);
        string height = g.Node("Shape", [pixels], null, new OnnxAttribute("start", 2L), new OnnxAttribute("end", 3L));  // [1]
        string grid = g.Node("Div", [height, g.Int64s(patch)]);                      // integer division, like the stride-P conv
        string gridScalar = g.Node("Squeeze", [grid, g.Int64s(0)]);
        string range = g.Node("Range", [g.Int64Scalar(0), gridScalar, g.Int64Scalar(1)]);
        string coords = g.Node("Cast", [range], null, new OnnxAttribute("to", (long)DataType.Float));      // [g]
        string square = g.Node("Concat", [grid, grid], null, new OnnxAttribute("axis", 0L));                     // [g, g]
        string cols = g.Node("Reshape", [g.Node("Expand", [g.Node("Unsqueeze", [coords, g.Int64s(0)]), square]), g.Int64s(-1, 1)]); // [g², 1]
        string rows = g.Node("Reshape", [g.Node("Expand", [g.Node("Unsqueeze", [coords, g.Int64s(1)]), square]), g.Int64s(-1, 1)]);
        string xo = g.Node("Mul", [cols, omegaName]);                                 // [g², W/4]
        string yo = g.Node("Mul", [rows, omegaName]);
        string table = g.Node("Concat", [g.Node("Sin", [xo]), g.Node("Cos", [xo]), g.Node("Sin", [yo]), g.Node("Cos", [yo])], null,
            new OnnxAttribute("axis", 1L));                                           // [g², W]
        string zeros = g.Initializer("visual.class_position", DataType.Float, [1, width], new byte[4 * width]);
        table = g.Node("Concat", [zeros, table], null, new OnnxAttribute("axis", 0L)); // [1+g², W]
        return writer.ComputeType == DataType.Float ? table : g.Node("Cast", [table], null, new OnnxAttribute("to", (long)writer.ComputeType));
    }

    // Refuse what the graph does not implement rather than export something silently different.
    private static void Check(VisionConfig config)
    {
        if (!config.NoLnPre) throw new NotSupportedException("ONNX export: ln_pre is not implemented (OpenVision configs have no_ln_pre)");
        if (config.PoolType != VisionPoolType.Avg || !config.FinalLnAfterPool)
            throw new NotSupportedException("ONNX export: only pool_type 'avg' with final_ln_after_pool is implemented (OpenVision's layout)");
    }
}
