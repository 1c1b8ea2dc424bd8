using OpenVision.Configs;
using DataType = OpenVision.Onnx.Proto.TensorProto.Types.DataType;

namespace OpenVision.Onnx.Graph;

/// <summary>The text tower as an ONNX graph: <c>token_ids</c> [N, C] int64 → <c>text_features</c> [N, E], following
/// open_clip's CLIP.encode_text as OpenVision configures it (no masks, pool at the last position).</summary>
internal static class TextGraph
{
    public const string TokenIdsName = "token_ids";
    public const string FeaturesName = "text_features";

    public static void Write(TowerWriter writer, TextConfig config, int embedDim)
    {
        Check(config);
        var g = writer.Graph;
        int width = config.Width;
        string ids = g.Input(TokenIdsName, DataType.Int64, "batch", (long)config.ContextLength);
        string x = g.Node("Gather", [writer.Weight("token_embedding.weight"), ids], null, new OnnxAttribute("axis", 0L)); // [N, C, W]
        x = g.Node("Add", [x, writer.Weight("positional_embedding")]);                // the whole table: C is fixed
        for (int i = 0; i < config.Layers; i++)
            x = writer.Block(x, $"transformer.resblocks.{i}", width, config.Heads, config.NormKwargs.Eps, tanhGelu: config.ActKwargs?.IsTanh == true);
        // ln_final works per token, so normalising only the pooled (last) position gives the same numbers.
        string last = g.Node("Gather", [x, g.Int64Scalar(-1)], null, new OnnxAttribute("axis", 1L));   // [N, W]
        string pooled = writer.LayerNorm(last, "ln_final", config.NormKwargs.Eps);
        string features = writer.Project(pooled, "text_projection");                  // [N, E]
        if (writer.ComputeType != DataType.Float) features = g.Node("Cast", [features], null, new OnnxAttribute("to", (long)DataType.Float));
        g.Output(features, FeaturesName, DataType.Float, "batch", (long)embedDim);
    }

    private static void Check(TextConfig config)
    {
        if (!config.NoCausalMask) throw new NotSupportedException("ONNX export: a causal text mask is not implemented (OpenVision's text tower has none)");
        if (config.PoolType != "last") throw new NotSupportedException($"ONNX export: text pool_type '{config.PoolType}' is not implemented (OpenVision pools the last position)");
        if (config.ProjBias) throw new NotSupportedException("ONNX export: a text projection bias is not implemented");
    }
}
