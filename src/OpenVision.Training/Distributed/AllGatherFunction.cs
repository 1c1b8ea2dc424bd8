using static TorchSharp.torch;

namespace OpenVision.Training.Distributed;

/// <summary>All-gather along dim 0 as an autograd function: forward concatenates every rank's rows, backward sums
/// the gradient of the concatenation over ranks and keeps this rank's rows (reduce-scatter), the adjoint of the
/// gather. That is what open_clip's <c>gather_with_grad</c> (torch.distributed.nn.all_gather) does, and it makes
/// the local-loss gradients exact: rank r's features receive the gradient of every rank's loss, not only its own.</summary>
/// <remarks>Every rank runs the same graph, so their backward passes reach this node in the same order and the
/// reduce-scatters pair up. Call it through <see cref="CollectiveContext.AllGather"/>.</remarks>
internal sealed class AllGatherFunction : autograd.SingleTensorFunction<AllGatherFunction>
{
    private const string ContextKey = "context";

    /// <inheritdoc/>
    public override string Name => "AllGatherBackward";

    /// <summary>Gathers; <paramref name="vars"/> = (local tensor [b, …], <see cref="CollectiveContext"/>).</summary>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var local = (Tensor)vars[0];
        var context = (CollectiveContext)vars[1];
        ctx.save_data(ContextKey, context);
        return context.GatherRaw(local);
    }

    /// <summary>Reduce-scatters the incoming gradient [N, …] to this rank's [b, …].</summary>
    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradient)
    {
        var context = (CollectiveContext)ctx.get_data(ContextKey);
        // One entry per forward argument; the context is not a tensor and gets none.
        return [context.ReduceScatterRaw(gradient), null!];
    }
}
