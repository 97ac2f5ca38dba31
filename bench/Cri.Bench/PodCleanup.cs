using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Grpc.Core;

namespace Crisp.Bench;

/// <summary>What a kubelet's cleanup does: stop and remove every pod (a bench daemon only runs the bench's own).</summary>
public static class PodCleanup
{
    public static async Task RemoveAllAsync(CrispDaemon daemon, CancellationToken cancellationToken)
    {
        var pods = await daemon.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest(), cancellationToken: cancellationToken);
        var failures = new List<Exception>();
        // One pod that cannot be removed must not keep the others (and their cgroups, CNI leases) around.
        foreach (var pod in pods.Items)
        {
            try
            {
                await daemon.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod.Id }, cancellationToken: cancellationToken);
                await daemon.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.Id }, cancellationToken: cancellationToken);
            }
            catch (RpcException e)
            {
                failures.Add(new InvalidOperationException($"pod {pod.Id}: {e.StatusCode}: {e.Status.Detail}", e));
            }
        }
        if (failures.Count > 0) throw new AggregateException($"{failures.Count} of {pods.Items.Count} pods could not be removed: {failures[0].Message}", failures);
    }

    /// <summary>For a suite's finally: removes every pod of a daemon still running; a failure becomes a FAILED row.</summary>
    public static async Task<BenchRow?> RemoveAllReportingAsync(string suite, CrispDaemon? daemon)
    {
        if (daemon?.ProcessId is null) return null;
        try
        {
            await RemoveAllAsync(daemon, CancellationToken.None);
            return null;
        }
        catch (Exception e)
        {
            return new BenchRow(suite, "FAILED", "", Note: $"cleanup of pods: {e.Message.ReplaceLineEndings(" ")}");
        }
    }
}
