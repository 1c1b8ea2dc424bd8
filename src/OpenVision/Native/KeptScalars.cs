using TorchSharp;

namespace OpenVision.Native;

/// <summary>TorchSharp <c>Scalar</c> constants that stay alive for the whole process, for the numbers inference hands
/// to tensor operators.</summary>
/// <remarks>TorchSharp 0.107 turns a .NET number given to an operator (<c>x + y</c> passes alpha = 1, <c>x * 0.5</c>,
/// <c>torch.arange(n)</c>, <c>torch.full(…, value)</c>) into a <c>Scalar</c> that only its finalizer frees, and the
/// object is unreachable as soon as its native handle has been read. A garbage collection started by another thread
/// while the operator runs in native code can then finalize and free it before libtorch reads it (libtorch fails with
/// <c>Expected false to be true … toFloat</c>, or reads a reused value); <c>ScalarRaceTests</c> reproduces this.
/// A Scalar held by a static field is never finalized, so inference passes these instead: <c>x.add(y, One)</c> rather
/// than <c>x + y</c>. A value known only at run time is made with <c>using var s = value.ToScalar();</c>, which keeps
/// it reachable until the operator has returned. Each constant has the .NET type TorchSharp's implicit conversion
/// would have used (int for alpha, double for a double literal), so results are bit for bit those of the operators.
/// Training steps are covered differently, by <see cref="CollectorPause"/>. The guard is <c>ScalarFinalizationTests</c>:
/// inference must leave no Scalar or Tensor to the finalizer. Upstream fix in progress: dotnet/TorchSharp pull requests
/// #1434 and #1496.</remarks>
internal static class KeptScalars
{
    /// <summary>The integer 1: the alpha TorchSharp passes for <c>x + y</c> (<c>x - y</c> passes none), and arange's step.</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>The integer 2: the exponent TorchSharp passes for <c>x.square()</c>.</summary>
    public static readonly Scalar Two = 2.ToScalar();

    /// <summary>The integer 0: arange's start.</summary>
    public static readonly Scalar Zero = 0.ToScalar();

    /// <summary>−∞ as a double: the masked entries of an additive attention mask.</summary>
    public static readonly Scalar NegativeInfinity = double.NegativeInfinity.ToScalar();

    /// <summary>The value of a one-element tensor of any dtype as a double. TorchSharp's <c>ToDouble()</c> reads it
    /// through a temporary Scalar that is unreachable while the conversion runs in native code; this one is held.</summary>
    public static double ValueOf(torch.Tensor oneElement)
    {
        using var value = oneElement.ToScalar();
        return value.ToDouble();
    }
}
