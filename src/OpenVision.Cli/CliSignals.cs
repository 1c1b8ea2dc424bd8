using System.Runtime.InteropServices;

namespace OpenVision.Cli;

/// <summary>For the lifetime of a command that writes outputs, turns the first SIGINT or SIGTERM into a cancellation
/// the library observes at a safe point (a step or batch boundary); a second signal terminates at once, as usual.
/// Commands that do not create one keep the runtime's default (immediate exit).</summary>
internal sealed class CliSignals : IDisposable
{
    private readonly CancellationTokenSource source = new();
    private readonly PosixSignalRegistration interrupt, terminate;

    public CliSignals()
    {
        interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => source.Token;

    /// <summary>The signal that cancelled, or null.</summary>
    public PosixSignal? Received { get; private set; }

    private void Handle(PosixSignalContext context)
    {
        if (source.IsCancellationRequested) return;   // the second one: leave the default (terminate)
        context.Cancel = true;
        Received = context.Signal;
        source.Cancel();
    }

    public void Dispose()
    {
        interrupt.Dispose();
        terminate.Dispose();
        source.Dispose();
    }
}
