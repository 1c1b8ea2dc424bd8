namespace OpenVision.Checkpoints.Pickle;

/// <summary>A storage named by a torch.save persistent id: the zip record <c>data/{Key}</c> holding
/// <see cref="ElementCount"/> elements of <see cref="DType"/>.</summary>
internal sealed record TorchStorageRef(string Key, TensorDType DType, long ElementCount, string Location);

/// <summary>A storage class such as <c>torch.FloatStorage</c>, resolved by the allow-list; it only names a dtype.</summary>
internal sealed record TorchStorageType(string Name, TensorDType DType);

/// <summary>A tensor as <c>torch._utils._rebuild_tensor_v2</c> describes it: a strided view into a storage.</summary>
internal sealed record TorchTensorRef(TorchStorageRef Storage, long StorageOffset, long[] Size, long[] Stride);

/// <summary>An allowed global that a pickle may call through REDUCE or NEWOBJ; the allow-list decides what a call does.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    /// <summary>"module.name", as Python prints it.</summary>
    public string FullName => $"{Module}.{Name}";
}
