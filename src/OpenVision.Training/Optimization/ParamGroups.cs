using OpenVision.Models;
using OpenVision.Training.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OpenVision.Training.Optimization;

/// <summary>The parameters split as OpenVision's optimizer treats them: weight decay only on Dense/Conv kernels
/// (optax mask <c>.*/kernel$</c>), none on everything else, and frozen parameters left out of the optimizer.</summary>
/// <param name="Decayed">Kernels: Linear and Conv2d weights (decoder Linears and head included), attention
/// <c>in_proj_weight</c> (JAX's query/key/value kernels), and the tower projections <c>visual.proj</c> and
/// <c>text_projection</c> (JAX <c>img/head/kernel</c>, <c>txt/head/kernel</c>).</param>
/// <param name="NotDecayed">LayerNorm scales and biases, all biases, token and positional embeddings, the class
/// embedding, <c>logit_scale</c> and the decoder's query tokens.</param>
/// <param name="Frozen">Parameters with <c>requires_grad</c> off, e.g. the vision sin-cos table (a constant in JAX).</param>
public sealed record ParamGroups(
    IReadOnlyList<(string Name, Parameter Parameter)> Decayed,
    IReadOnlyList<(string Name, Parameter Parameter)> NotDecayed,
    IReadOnlyList<(string Name, Parameter Parameter)> Frozen)
{
    /// <summary>Splits a module's parameters; names are its state-dict keys.</summary>
    public static ParamGroups Split(nn.Module module) => Split([("", module)]);


    private static ParamGroups Split(IEnumerable<(string Prefix, nn.Module Root)> roots)
    {
        List<(string, Parameter)> decayed = [], notDecayed = [], frozen = [];
        foreach (var (prefix, root) in roots)
        {
            var modules = root.named_modules().ToDictionary(m => m.name, m => m.module);
            modules[""] = root;
            foreach (var (name, parameter) in root.named_parameters())
            {
                var list = !parameter.requires_grad ? frozen : IsKernel(name, modules) ? decayed : notDecayed;
                list.Add((prefix.Length == 0 ? name : $"{prefix}.{name}", parameter));
            }
        }
        return new ParamGroups(decayed, notDecayed, frozen);
    }

    private static bool IsKernel(string name, Dictionary<string, nn.Module> modules)
    {
        int dot = name.LastIndexOf('.');
        string leaf = name[(dot + 1)..];
        var owner = modules.GetValueOrDefault(dot < 0 ? "" : name[..dot]);
        return (leaf == "weight" && owner is Linear or Conv2d)                  // Dense / Conv kernels
            || leaf == "in_proj_weight"                                          // q, k, v kernels in one tensor
            || (leaf == "proj" && owner is VisionTransformer)                    // img/head/kernel
            || (leaf == "text_projection" && owner is OpenVisionModel or ClipsTrainingModel);          // txt/head/kernel
    }
}
