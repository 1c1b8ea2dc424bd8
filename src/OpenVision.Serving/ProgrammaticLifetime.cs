using Microsoft.Extensions.Hosting;

namespace OpenVision.Serving;

/// <summary>A host lifetime that leaves the process's signals alone: the host stops when its owner stops it.</summary>
internal sealed class ProgrammaticLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
