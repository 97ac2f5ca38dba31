using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Crisp.E2E.Cluster;

/// <summary>The suite's pods on the crisp node: created pinned to it, awaited through the API server, exec'd, logged, deleted.</summary>
public sealed class ClusterPods(IKubernetes client, string namespaceName, V1Node node)
{
    // Generous: the first pod on a node pulls the busybox image.
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    public string NodeName => node.Metadata.Name;

    /// <summary>A pod spec pinned to the crisp node, whose containers stop at once when deleted.</summary>
    public V1Pod Pod(string prefix, params V1Container[] containers) => new()
    {
        Metadata = new V1ObjectMeta { Name = $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}", NamespaceProperty = namespaceName },
        Spec = new V1PodSpec
        {
            NodeSelector = new Dictionary<string, string> { ["kubernetes.io/hostname"] = node.Metadata.Labels?["kubernetes.io/hostname"] ?? NodeName },
            RestartPolicy = "Never",
            TerminationGracePeriodSeconds = 2,
            Containers = containers,
        },
    };

    public static V1Container Shell(string name, string script) => new()
    {
        Name = name,
        Image = ClusterSettings.BusyboxImage,
        Command = ["sh", "-c", script],
    };

    public Task<V1Pod> CreateAsync(V1Pod pod) => client.CoreV1.CreateNamespacedPodAsync(pod, namespaceName);

    /// <summary>Creates the pod and waits until all its containers run; fails naming the pod's status and events otherwise.</summary>
    public async Task<V1Pod> RunAsync(V1Pod pod)
    {
        await CreateAsync(pod);
        return await WaitAsync(pod.Metadata.Name, "all containers running",
            p => p.Status?.Phase == "Running" && p.Status.ContainerStatuses?.All(c => c.State?.Running is not null) == true);
    }

    public async Task<V1Pod> WaitAsync(string name, string what, Func<V1Pod, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? StartTimeout);
        V1Pod pod;
        while (true)
        {
            pod = await client.CoreV1.ReadNamespacedPodAsync(name, namespaceName);
            if (condition(pod)) return pod;
            if (pod.Status?.Phase is "Failed" or "Succeeded" && pod.Status.ContainerStatuses?.All(c => c.State?.Terminated is not null) == true)
                break;
            if (DateTime.UtcNow > deadline) break;
            await Task.Delay(PollInterval);
        }
        throw new InvalidOperationException($"pod {namespaceName}/{name} on {NodeName}: not {what}\n{await DescribeAsync(pod)}");
    }

    /// <summary>The pod's phase, each container's state and the pod's events: what `kubectl describe` would show.</summary>
    public async Task<string> DescribeAsync(V1Pod pod)
    {
        var text = new StringBuilder($"phase {pod.Status?.Phase} {pod.Status?.Reason} {pod.Status?.Message}\n");
        foreach (var status in (pod.Status?.InitContainerStatuses ?? []).Concat(pod.Status?.ContainerStatuses ?? []))
        {
            var state = status.State;
            text.Append($"  {status.Name}: running={state?.Running is not null} waiting={state?.Waiting?.Reason} {state?.Waiting?.Message} " +
                        $"terminated={state?.Terminated?.Reason} exit={state?.Terminated?.ExitCode} {state?.Terminated?.Message}\n");
        }
        var events = await EventsAsync(pod.Metadata.Name);
        foreach (var e in events) text.Append($"  event {e.Reason}: {e.Message}\n");
        return text.ToString();
    }

    public async Task<IReadOnlyList<Corev1Event>> EventsAsync(string podName) =>
        (await client.CoreV1.ListNamespacedEventAsync(namespaceName, fieldSelector: $"involvedObject.name={podName}")).Items.ToList();

    /// <summary>Runs a command in a container through the API server's exec (the kubelet's streaming to crisp's).</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> ExecAsync(string pod, string container, params string[] command)
    {
        string stdout = "", stderr = "";
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var exitCode = await client.NamespacedPodExecAsync(pod, namespaceName, container, command, tty: false,
            async (stdIn, stdOut, stdErr) =>
            {
                stdIn.Close();
                var outText = new StreamReader(stdOut).ReadToEndAsync(timeout.Token);
                var errText = new StreamReader(stdErr).ReadToEndAsync(timeout.Token);
                stdout = await outText;
                stderr = await errText;
            }, timeout.Token);
        return (exitCode, stdout, stderr);
    }

    /// <summary>The container's log as the API server serves it (the kubelet reading crisp's CRI log file).</summary>
    public async Task<string> LogAsync(string pod, string container)
    {
        await using var stream = await client.CoreV1.ReadNamespacedPodLogAsync(pod, namespaceName, container: container);
        return await new StreamReader(stream).ReadToEndAsync();
    }

    /// <summary>Waits until the log holds <paramref name="text"/>: containers write it a moment after they start.</summary>
    public async Task<string> WaitForLogAsync(string pod, string container, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string log;
        do
        {
            log = await LogAsync(pod, container);
            if (log.Contains(text, StringComparison.Ordinal)) return log;
            await Task.Delay(PollInterval);
        } while (DateTime.UtcNow < deadline);
        throw new InvalidOperationException($"log of {pod}/{container} never held \"{text}\": {log}");
    }

    /// <summary>Deletes the pod and waits until the API server no longer has it (the kubelet confirmed its containers stopped).</summary>
    public async Task DeleteAsync(string name)
    {
        await client.CoreV1.DeleteNamespacedPodAsync(name, namespaceName);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await client.CoreV1.ReadNamespacedPodAsync(name, namespaceName);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return;
            }
            await Task.Delay(PollInterval);
        }
        throw new InvalidOperationException($"pod {namespaceName}/{name} still exists 2 minutes after its deletion");
    }
}
