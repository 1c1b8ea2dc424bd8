using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace OpenVision.Native;

/// <summary>The address of a CPU tensor's first element, for native kernels (TorchSharp's <c>bytes</c> span stops at
/// 2 GB).</summary>
internal static partial class TensorMemory
{
    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSTensor_data(IntPtr tensor);

    /// <summary>data_ptr(): the storage offset included; the tensor must stay alive while the address is used.</summary>
    public static IntPtr Address(Tensor tensor)
    {
        IntPtr address = THSTensor_data(tensor.Handle);
        if (address == IntPtr.Zero && tensor.numel() > 0) throw new InvalidOperationException("libtorch gave no data pointer for the tensor");
        return address;
    }
}
