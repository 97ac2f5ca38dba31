using System.Globalization;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Oci;

/// <summary>
/// Decides uid, gid and supplementary groups of a container's process from the security context and the
/// image's USER, resolving names against the image's own /etc/passwd and /etc/group.
/// </summary>
public static class UserResolver
{
    private const string ScField = "config.linux.security_context";

    public static ResolvedUser Resolve(string rootfsPath, string? imageUser, LinuxContainerSecurityContext? securityContext)
    {
        var passwd = new Lazy<IReadOnlyList<PasswdEntry>>(() => PasswdEntry.Parse(RootfsPath.ReadTextOrNull(rootfsPath, "/etc/passwd")));
        var groups = new Lazy<IReadOnlyList<GroupEntry>>(() => GroupEntry.Parse(RootfsPath.ReadTextOrNull(rootfsPath, "/etc/group")));

        long uid;
        long? gid = null;
        string? username;

        if (!string.IsNullOrEmpty(securityContext?.RunAsUsername))
        {
            var name = securityContext.RunAsUsername;
            var entry = passwd.Value.FirstOrDefault(p => p.Name == name)
                ?? throw RuntimeException.InvalidField($"{ScField}.run_as_username", $"user \"{name}\" not found in the image's /etc/passwd");
            (uid, username) = (entry.Uid, entry.Name);
            gid = entry.Gid;
        }
        else if (securityContext?.RunAsUser is { } runAsUser)
        {
            if (runAsUser.Value < 0 || runAsUser.Value > uint.MaxValue)
                throw RuntimeException.InvalidField($"{ScField}.run_as_user", $"uid {runAsUser.Value} is out of range");
            uid = runAsUser.Value;
            var entry = passwd.Value.FirstOrDefault(p => p.Uid == uid);
            username = entry?.Name;
            gid = entry?.Gid;
        }
        else if (!string.IsNullOrEmpty(imageUser))
        {
            (uid, gid, username) = ParseImageUser(imageUser, passwd.Value, groups.Value);
        }
        else
        {
            uid = 0;
            var entry = passwd.Value.FirstOrDefault(p => p.Uid == 0);
            username = entry?.Name;
            gid = entry?.Gid;
        }

        if (securityContext?.RunAsGroup is { } runAsGroup)
        {
            if (string.IsNullOrEmpty(securityContext.RunAsUsername) && securityContext.RunAsUser is null)
                throw RuntimeException.InvalidField($"{ScField}.run_as_group", "run_as_group requires run_as_user or run_as_username");
            if (runAsGroup.Value < 0 || runAsGroup.Value > uint.MaxValue)
                throw RuntimeException.InvalidField($"{ScField}.run_as_group", $"gid {runAsGroup.Value} is out of range");
            gid = runAsGroup.Value;
        }

        var primaryGid = gid ?? 0;
        var extra = new SortedSet<long>();
        var index = 0;
        foreach (var supplemental in securityContext?.SupplementalGroups ?? [])
        {
            if (supplemental < 0 || supplemental > uint.MaxValue)
                throw RuntimeException.InvalidField($"{ScField}.supplemental_groups[{index}]", $"gid {supplemental} is out of range");
            extra.Add(supplemental);
            index++;
        }

        // Merge (the Kubernetes default) also grants the groups the image's /etc/group lists the user in;
        // Strict grants only what the pod spec says.
        var policy = securityContext?.SupplementalGroupsPolicy ?? SupplementalGroupsPolicy.Merge;
        if (policy == SupplementalGroupsPolicy.Merge && username is not null)
        {
            foreach (var group in groups.Value)
                if (group.Members.Contains(username)) extra.Add(group.Gid);
        }

        var additional = new List<long> { primaryGid };
        foreach (var g in extra)
            if (g != primaryGid) additional.Add(g);

        return new ResolvedUser(uid, primaryGid, additional, username);
    }

    private static (long Uid, long? Gid, string? Username) ParseImageUser(
        string imageUser, IReadOnlyList<PasswdEntry> passwd, IReadOnlyList<GroupEntry> groups)
    {
        const string field = "image.config.User";
        var colon = imageUser.IndexOf(':');
        var userPart = colon < 0 ? imageUser : imageUser[..colon];
        var groupPart = colon < 0 ? null : imageUser[(colon + 1)..];

        long uid;
        long? gid;
        string? username;
        if (TryParseId(userPart, out var numericUid))
        {
            uid = numericUid;
            var entry = passwd.FirstOrDefault(p => p.Uid == uid);
            username = entry?.Name;
            gid = entry?.Gid;
        }
        else
        {
            var entry = passwd.FirstOrDefault(p => p.Name == userPart)
                ?? throw RuntimeException.InvalidField(field, $"user \"{userPart}\" of image USER \"{imageUser}\" not found in the image's /etc/passwd");
            (uid, gid, username) = (entry.Uid, entry.Gid, entry.Name);
        }

        if (!string.IsNullOrEmpty(groupPart))
        {
            if (TryParseId(groupPart, out var numericGid))
                gid = numericGid;
            else
                gid = groups.FirstOrDefault(g => g.Name == groupPart)?.Gid
                    ?? throw RuntimeException.InvalidField(field, $"group \"{groupPart}\" of image USER \"{imageUser}\" not found in the image's /etc/group");
        }

        return (uid, gid, username);
    }

    private static bool TryParseId(string text, out long id) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id <= uint.MaxValue;

    private sealed record PasswdEntry(string Name, long Uid, long Gid)
    {
        public static IReadOnlyList<PasswdEntry> Parse(string? text)
        {
            var result = new List<PasswdEntry>();
            if (text is null) return result;
            foreach (var line in text.Split('\n'))
            {
                var fields = line.Trim().Split(':');
                if (fields.Length < 4 || fields[0].Length == 0 || fields[0].StartsWith('#')) continue;
                if (!TryParseId(fields[2], out var uid) || !TryParseId(fields[3], out var gid)) continue;
                result.Add(new PasswdEntry(fields[0], uid, gid));
            }
            return result;
        }
    }

    private sealed record GroupEntry(string Name, long Gid, IReadOnlySet<string> Members)
    {
        public static IReadOnlyList<GroupEntry> Parse(string? text)
        {
            var result = new List<GroupEntry>();
            if (text is null) return result;
            foreach (var line in text.Split('\n'))
            {
                var fields = line.Trim().Split(':');
                if (fields.Length < 3 || fields[0].Length == 0 || fields[0].StartsWith('#')) continue;
                if (!TryParseId(fields[2], out var gid)) continue;
                var members = fields.Length > 3
                    ? fields[3].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal)
                    : [];
                result.Add(new GroupEntry(fields[0], gid, members));
            }
            return result;
        }
    }
}
