using System.Text.Json;

namespace OpenVision.Training.Tests.Distributed;

// Every call of the P/Invoke binding against the system's Open MPI, in real processes started by mpirun.
public sealed class MpiBindingTests : IDisposable
{
    private readonly string output = Directory.CreateTempSubdirectory("ov-mpi-").FullName;

    public void Dispose() => Directory.Delete(output, recursive: true);

    [Fact]
    public void EveryCallGivesTheMpiAnswerOnTwoRanks()
    {
        TestHost.Succeed(2, "selftest", "--output", output);
        for (int rank = 0; rank < 2; rank++)
        {
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, $"selftest-{rank}.json")));
            var r = json.RootElement;
            Assert.Equal(rank, r.GetProperty("rank").GetInt32());
            Assert.Equal(2, r.GetProperty("size").GetInt32());
            Assert.Equal([3.0, 6.0], Doubles(r, "sum_float"));              // (1, 2) + (2, 4)
            Assert.Equal([2.0], Doubles(r, "sum_double"));                  // 0.5 + 1.5
            Assert.Equal((2L << 40) + 1, r.GetProperty("sum_long")[0].GetInt64());
            Assert.Equal([1.0], Doubles(r, "max_int"));
            Assert.Equal([0.0, 1, 10, 11], Doubles(r, "all_gather"));
            Assert.Equal([0.0, 1, 1], Doubles(r, "all_gather_v"));          // rank r sends r + 1 copies of r
            Assert.Equal(rank == 0 ? [1.0, 3] : [5.0, 7], Doubles(r, "reduce_scatter"));   // (r + i) summed, block r
            Assert.Equal([42.0, 1], Doubles(r, "broadcast"));               // from the last rank
            Assert.True(r.GetProperty("initialized").GetBoolean());
            Assert.True(r.GetProperty("finalized").GetBoolean());
            Assert.InRange(r.GetProperty("wtime_elapsed").GetDouble(), 0, 60);
            Assert.Equal(3, r.GetProperty("thread_level").GetInt32());      // MPI_THREAD_MULTIPLE: the watchdog may abort
        }
    }

    // Without mpirun, MPI_Init makes a singleton world of one: the same binary runs alone.
    [Fact]
    public void SingletonWithoutMpirunIsAWorldOfOne()
    {
        TestHost.Succeed(0, "selftest", "--output", output);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "selftest-0.json")));
        Assert.Equal(1, json.RootElement.GetProperty("size").GetInt32());
        Assert.Equal([0.0, 1], Doubles(json.RootElement, "all_gather"));
    }

    private static double[] Doubles(JsonElement e, string name) => [.. e.GetProperty(name).EnumerateArray().Select(x => x.GetDouble())];
}
