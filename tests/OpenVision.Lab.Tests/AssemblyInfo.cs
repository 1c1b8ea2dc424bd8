// Models are initialised from TorchSharp's global generator (torch.manual_seed), which parallel test classes
// would share; running serially keeps every model, and so every number these tests print, reproducible.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
