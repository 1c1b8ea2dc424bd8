using System.Reflection;
using System.Reflection.Emit;

namespace OpenVision.Tests.Native;

/// <summary>Finds, in compiled library code, the TorchSharp calls that hand libtorch a <c>Scalar</c> nobody holds:
/// a number converted implicitly, an operator with a number operand, and the TorchSharp members that make such a
/// Scalar themselves (<c>x + y</c> and <c>add(y)</c> pass alpha = 1, <c>square()</c> passes 2, <c>arange</c> without a
/// step passes 1, <c>ToDouble()</c> reads through one). A collection on another thread can free that Scalar while the
/// operator still runs in native code (see Native.KeptScalars). The workload guards catch what a run reaches; this
/// catches the paths no test runs.</summary>
public static class TemporaryScalarScan
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private static readonly HashSet<string> SingleOperandAdds = ["add", "add_"];
    private static readonly HashSet<string> ReadThroughScalar = ["ToDouble", "ToSingle", "ToInt64", "ToInt32", "ToInt16", "ToByte", "ToSByte", "ToHalf", "ToBoolean"];

    /// <summary>"Type.Method → callee" for every such call in <paramref name="assembly"/>, except in methods
    /// <paramref name="exempt"/> accepts.</summary>
    public static IReadOnlyList<string> Find(Assembly assembly, Func<MethodBase, bool>? exempt = null)
    {
        var found = new List<string>();
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var type in assembly.GetTypes())
        foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            if (exempt?.Invoke(method) == true) continue;
            var il = method.GetMethodBody()?.GetILAsByteArray();
            if (il is null) continue;
            foreach (var callee in Callees(method, il))
                if (IsTemporaryScalar(callee))
                    found.Add($"{type.FullName}.{method.Name} → {callee.DeclaringType?.Name}.{callee.Name}({string.Join(", ", callee.GetParameters().Select(p => p.ParameterType.Name))})");
        }
        return found;
    }

    private static bool IsTemporaryScalar(MethodBase callee)
    {
        string declaring = callee.DeclaringType?.FullName ?? "";
        if (!declaring.StartsWith("TorchSharp", StringComparison.Ordinal)) return false;
        var parameters = callee.GetParameters();
        bool onTensor = declaring == "TorchSharp.torch+Tensor";
        return (declaring == "TorchSharp.Scalar" && callee.Name == "op_Implicit")
            || (onTensor && callee.Name.StartsWith("op_", StringComparison.Ordinal) && parameters.Any(p => p.ParameterType.IsPrimitive))
            || (onTensor && callee.Name == "op_Addition")
            || (onTensor && SingleOperandAdds.Contains(callee.Name) && parameters.Length == 1)
            || (onTensor && callee.Name == "square")
            || (declaring == "TorchSharp.torch" && callee.Name == "arange" && parameters.Count(p => p.ParameterType.Name == "Scalar") < 3)
            || (declaring == "TorchSharp.TensorExtensionMethods" && ReadThroughScalar.Contains(callee.Name));
    }

    private static IEnumerable<MethodBase> Callees(MethodBase method, byte[] il)
    {
        var module = method.Module;
        var typeArguments = method.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            var op = OpCodesByValue[value];
            i += op.Size;
            if (op.OperandType == OperandType.InlineMethod)
            {
                MethodBase? callee = null;
                try { callee = module.ResolveMethod(BitConverter.ToInt32(il, i), typeArguments, methodArguments); }
                catch (ArgumentException) { }
                if (callee is not null) yield return callee;
            }
            i += op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
        }
    }
}
