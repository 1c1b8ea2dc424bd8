using OpenVision.Training.Distributed;

namespace OpenVision.Training.Tests.Distributed;

/// <summary>N ranks as N threads of this process: an in-memory <see cref="ICollectives"/> (each collective is a
/// deposit, a barrier, a read, a barrier), so the tensor-level logic of <see cref="CollectiveContext"/> can be
/// checked against one-process results without MPI.</summary>
internal sealed class ThreadGroup(int size)
{
    private readonly Barrier barrier = new(size);
    private readonly object?[] slots = new object?[size];

    public int Size => size;

    /// <summary>Runs <paramref name="body"/> on <see cref="Size"/> threads, one per rank, and returns their results in rank order.</summary>
    public T[] Run<T>(Func<CollectiveContext, T> body, DistributedOptions? options = null)
    {
        var results = new T[size];
        var errors = new Exception?[size];
        var threads = Enumerable.Range(0, size).Select(rank => new Thread(() =>
        {
            try
            {
                using var context = new CollectiveContext(new Member(this, rank), options);
                results[rank] = body(context);
            }
            catch (Exception e) { errors[rank] = e; barrier.RemoveParticipant(); }
        }, maxStackSize: 16 << 20)).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        if (errors.FirstOrDefault(e => e is not null) is { } error) throw new AggregateException(error);
        return results;
    }

    // Everyone deposits a copy, waits, computes its result from all copies, and waits again before slots are reused.
    private U[][] Exchange<U>(int rank, ReadOnlySpan<U> mine) where U : unmanaged
    {
        slots[rank] = mine.ToArray();
        barrier.SignalAndWait();
        var all = slots.Select(s => (U[])s!).ToArray();
        barrier.SignalAndWait();
        return all;
    }

    private sealed class Member(ThreadGroup group, int rank) : ICollectives
    {
        public int Rank => rank;

        public int Size => group.Size;

        public void AllReduceSum<T>(Span<T> values) where T : unmanaged => Reduce(values, (a, b) => a + b);

        public void AllReduceMax<T>(Span<T> values) where T : unmanaged => Reduce(values, Math.Max);

        // Sums in rank order on every rank, so every rank gets bit-identical results, as MPI guarantees.
        private void Reduce<T>(Span<T> values, Func<double, double, double> combine) where T : unmanaged
        {
            var all = group.Exchange<T>(rank, values);
            for (int i = 0; i < values.Length; i++)
            {
                double acc = Convert.ToDouble(all[0][i]);
                for (int r = 1; r < all.Length; r++) acc = combine(acc, Convert.ToDouble(all[r][i]));
                values[i] = typeof(T) == typeof(float) ? (T)(object)(float)acc : (T)Convert.ChangeType(acc, typeof(T));
            }
        }

        public void AllGather<T>(ReadOnlySpan<T> local, Span<T> all) where T : unmanaged
        {
            var parts = group.Exchange(rank, local);
            for (int r = 0; r < parts.Length; r++) parts[r].CopyTo(all[(r * local.Length)..]);
        }

        public void AllGatherV<T>(ReadOnlySpan<T> local, Span<T> all, ReadOnlySpan<int> counts) where T : unmanaged
        {
            var parts = group.Exchange(rank, local);
            int offset = 0;
            foreach (var part in parts) { part.CopyTo(all[offset..]); offset += part.Length; }
        }

        public void ReduceScatterSum<T>(ReadOnlySpan<T> all, Span<T> local) where T : unmanaged
        {
            var summed = all.ToArray();
            AllReduceSum<T>(summed);
            summed.AsSpan(rank * local.Length, local.Length).CopyTo(local);
        }

        public void Broadcast<T>(Span<T> values, int root) where T : unmanaged => group.Exchange<T>(rank, values)[root].CopyTo(values);

        public void Barrier() => group.Exchange<byte>(rank, []);

        public void Abort(int errorCode) => throw new InvalidOperationException($"rank {rank} aborted with {errorCode}");

        public void Dispose() { }
    }
}
