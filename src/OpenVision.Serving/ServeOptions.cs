namespace OpenVision.Serving;

/// <summary>Settings of the stand-alone embedding service (<see cref="EmbeddingServer"/>): the endpoint settings plus
/// address, shutdown and signal handling.</summary>
public sealed record ServeOptions : OpenVisionEndpointOptions
{
    /// <summary>Address to listen on; loopback unless told otherwise, so nothing is exposed by accident.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (see <see cref="EmbeddingServer.Address"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>How long stopping waits for requests in flight before it aborts their connections.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Stop gracefully on SIGINT, SIGTERM and SIGQUIT (the generic host's console lifetime). Off by default:
    /// a library does not take over the process's signals unless its caller (the CLI) asks.</summary>
    public bool StopOnProcessSignals { get; init; }

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        if (Port is < 0 or > 65535) throw new ArgumentException($"the port must be 0 to 65535, not {Port}");
        if (ShutdownTimeout < TimeSpan.Zero) throw new ArgumentException("the shutdown timeout must not be negative");
    }
}
