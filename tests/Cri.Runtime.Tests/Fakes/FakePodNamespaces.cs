using System.Collections.Concurrent;
using Crisp.Runtime.Namespaces;

namespace Crisp.Runtime.Tests.Fakes;

/// <summary>Pinned namespaces as files under a directory (so "the file is gone" can be modelled), no real namespaces.</summary>
public sealed class FakePodNamespaces(string directory) : IPodNamespaces
{
    private readonly ConcurrentDictionary<string, byte> _pinned = new(StringComparer.Ordinal);

    public Exception? FailCreate { get; set; }
    public bool PidHolderAlive { get; set; } = true;
    public IReadOnlyCollection<string> Pinned => _pinned.Keys.ToList();

    public Task<PinnedNamespaces> CreateAsync(
        string sandboxId, bool newNetwork, bool newIpc, bool newUts, bool sharedPid, string? hostname,
        UserNamespaceMappings? userNamespace, CancellationToken ct)
    {
        if (FailCreate is not null) throw FailCreate;
        var dir = Path.Combine(directory, sandboxId);
        Directory.CreateDirectory(dir);
        string? Pin(bool wanted, string name)
        {
            if (!wanted) return null;
            var path = Path.Combine(dir, name);
            File.WriteAllText(path, "");
            return path;
        }
        _pinned[sandboxId] = 0;
        return Task.FromResult(new PinnedNamespaces(Pin(newNetwork, "net"), Pin(newIpc, "ipc"), Pin(newUts, "uts"), Pin(sharedPid, "pid"), null)
        {
            UserPath = Pin(userNamespace is not null, "user"),
        });
    }

    public bool IsPidHolderAlive(string sandboxId) => PidHolderAlive;

    public Task RemoveAsync(string sandboxId, CancellationToken ct)
    {
        var dir = Path.Combine(directory, sandboxId);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        _pinned.TryRemove(sandboxId, out _);
        return Task.CompletedTask;
    }
}
