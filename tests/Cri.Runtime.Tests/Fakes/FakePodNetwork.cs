using System.Collections.Concurrent;
using Crisp.Cri.V1;
using Crisp.Runtime.Network;

namespace Crisp.Runtime.Tests.Fakes;

/// <summary>CNI attachments as a set of sandbox ids; abandoned ones are kept apart, as the attachment cache does.</summary>
public sealed class FakePodNetwork : IPodNetwork
{
    private readonly ConcurrentDictionary<string, byte> _attached = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _abandoned = new(StringComparer.Ordinal);

    public Exception? FailAttach { get; set; }
    public Exception? FailDetach { get; set; }
    public IReadOnlyCollection<string> Attached => _attached.Keys.ToList();
    public IReadOnlyCollection<string> Abandoned => _abandoned.Keys.ToList();

    public CniConfigState Status { get; set; } = new(true, null, "", "", []);

    public Task UpdatePodCidrAsync(string cidrs, CancellationToken ct) => Task.CompletedTask;

    public Task<IReadOnlyList<string>> AttachAsync(string sandboxId, PodSandboxConfig config, string netnsPath, CancellationToken ct)
    {
        if (FailAttach is not null) throw FailAttach;
        _attached[sandboxId] = 0;
        return Task.FromResult<IReadOnlyList<string>>(["10.88.0.5"]);
    }

    public Task DetachAsync(string sandboxId, CancellationToken ct)
    {
        if (!_attached.ContainsKey(sandboxId)) return Task.CompletedTask;
        if (FailDetach is not null) throw FailDetach;
        _attached.TryRemove(sandboxId, out _);
        return Task.CompletedTask;
    }

    public Task AbandonAsync(string sandboxId, CancellationToken ct)
    {
        if (_attached.ContainsKey(sandboxId)) _abandoned[sandboxId] = 0;
        return Task.CompletedTask;
    }

    public IEnumerable<string> AttachedSandboxIds() => _attached.Keys;

    /// <summary>An attachment left on disk by an earlier run.</summary>
    public void AddAttachment(string sandboxId) => _attached[sandboxId] = 0;
}
