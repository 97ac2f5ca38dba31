namespace Crisp.ImageService.Content;

/// <summary>
/// Where a blob comes from, for error messages: "blob sha256:… from registry R repository X".
/// Never carries credentials.
/// </summary>
public sealed record BlobSource(string Registry, string Repository)
{
    public string Describe(string digest) => $"blob {digest} from registry {Registry} repository {Repository}";

    public static readonly BlobSource Local = new("(local)", "(local)");
}
