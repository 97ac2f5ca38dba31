using Crisp.Runtime.Lsm;

namespace Crisp.Runtime.Tests.Fakes;

/// <summary>A host's AppArmor as tests set it up: enabled or not, which profiles are loaded, what got loaded.</summary>
public sealed class FakeAppArmorHost : IAppArmorHost
{
    public bool Enabled { get; set; }
    public HashSet<string> Loaded { get; } = [];
    public List<string> LoadedFiles { get; } = [];
    public string DaemonProfile { get; set; } = "unconfined";
    public HashSet<string> Includes { get; } = [];

    public bool IsLoaded(string profile) => Loaded.Contains(profile);

    public bool HasInclude(string relativePath) => Includes.Contains(relativePath);

    public Task LoadAsync(string profileFile, CancellationToken ct)
    {
        LoadedFiles.Add(profileFile);
        Loaded.Add(Path.GetFileName(profileFile));
        return Task.CompletedTask;
    }
}
