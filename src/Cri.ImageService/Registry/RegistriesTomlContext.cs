using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Serialization;

namespace Crisp.ImageService.Registry;

/// <summary>
/// Source-generated TOML metadata: registries.conf is read as an untyped <see cref="TomlTable"/>
/// and walked by hand, which needs no reflection and so stays valid in the native AOT crispd.
/// </summary>
[TomlSerializable(typeof(TomlTable))]
internal sealed partial class RegistriesTomlContext : TomlSerializerContext
{
    /// <summary>Options carry the source name so a parse error names the file.</summary>
    public RegistriesTomlContext(TomlSerializerOptions options) : base(options) { }
}
