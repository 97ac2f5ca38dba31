namespace Crisp.Interop.Procfs;

/// <summary>
/// One line of /proc/&lt;pid&gt;/mountinfo (proc(5)), with the octal escapes of paths and names decoded:
/// <c>id parent major:minor root mountpoint options [optional fields...] - fstype source superoptions</c>.
/// </summary>
public sealed record MountInfoEntry(
    int MountId,
    int ParentId,
    string Device,
    string Root,
    string MountPoint,
    IReadOnlyList<string> MountOptions,
    IReadOnlyList<string> OptionalFields,
    string FilesystemType,
    string Source,
    IReadOnlyList<string> SuperOptions)
{
    /// <summary>Member of a peer group (<c>shared:N</c>): mount events propagate both ways.</summary>
    public bool IsShared => HasOptionalField("shared:");

    /// <summary>Receives from a master peer group (<c>master:N</c>); a mount can be both shared and a slave.</summary>
    public bool IsSlave => HasOptionalField("master:");

    private bool HasOptionalField(string tag)
    {
        foreach (var field in OptionalFields)
            if (field.StartsWith(tag, StringComparison.Ordinal)) return true;
        return false;
    }
}
