// Makes libLibTorchSharp.so loadable on systems whose libstdc++ predates GCC 13 by marking its
// GLIBCXX_3.4.32 requirement weak. Compiled by MSBuild as an inline task (RoslynCodeTaskFactory
// takes one source file and compiles against netstandard, hence no Span here); the tests compile
// only ElfVersionNeeds (they define ELF_PATCH_ONLY). Why this is safe: docs/torchsharp-on-debian12.md.
using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
#if !ELF_PATCH_ONLY
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class WeakenGlibcxxVersion : Task
{
    /// <summary>Native libraries to patch in place (copies in output folders, never the package cache).</summary>
    [Required] public ITaskItem[] Files { get; set; } = new ITaskItem[0];

    /// <summary>The version the system libstdc++ may lack; only this requirement is weakened.</summary>
    public string VersionName { get; set; } = "GLIBCXX_3.4.32";

    public override bool Execute()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return true;
        if (ElfVersionNeeds.SystemLibstdcxxHas(VersionName))
        {
            Log.LogMessage(MessageImportance.Low, "System libstdc++ provides " + VersionName + "; nothing to patch.");
            return true;
        }
        foreach (var item in Files)
        {
            string path = item.ItemSpec;
            if (!File.Exists(path)) continue;
            byte[] image = File.ReadAllBytes(path);
            if (ElfVersionNeeds.MakeWeak(image, "libstdc++.so.6", VersionName) == 0) continue;
            // Write beside and swap in, so an interrupted build never leaves a half-written library.
            string tmp = path + ".patching";
            File.WriteAllBytes(tmp, image);
            File.Copy(tmp, path, true);
            File.Delete(tmp);
            Log.LogMessage(MessageImportance.High, "Weakened the " + VersionName + " requirement of " + path);
        }
        return true;
    }
}
#endif

public static class ElfVersionNeeds
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    /// <summary>
    /// Sets VER_FLG_WEAK on every Elf64_Vernaux entry named <paramref name="versionName"/> under the
    /// Elf64_Verneed entry for <paramref name="file"/>. Returns how many entries changed (0 when
    /// already weak, so running twice is a no-op). Throws on anything but a little-endian ELF64.
    /// </summary>
    public static int MakeWeak(byte[] image, string file, string versionName)
    {
        int changed = 0;
        foreach (int flagsOffset in FindAuxFlags(image, file, versionName))
        {
            ushort flags = U16(image, flagsOffset);
            if ((flags & VerFlgWeak) != 0) continue;
            flags |= VerFlgWeak;
            image[flagsOffset] = (byte)flags;
            image[flagsOffset + 1] = (byte)(flags >> 8);
            changed++;
        }
        return changed;
    }

    /// <summary>True when the image needs <paramref name="versionName"/> of <paramref name="file"/> and every such need is weak.</summary>
    public static bool IsWeak(byte[] image, string file, string versionName)
    {
        var offsets = FindAuxFlags(image, file, versionName);
        if (offsets.Count == 0) return false;
        foreach (int o in offsets) if ((U16(image, o) & VerFlgWeak) == 0) return false;
        return true;
    }

    /// <summary>Offsets of vna_flags of the matching Elf64_Vernaux entries.</summary>
    public static List<int> FindAuxFlags(byte[] image, string file, string versionName)
    {
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
            throw new FormatException("not an ELF file");
        if (image[4] != 2 || image[5] != 1) throw new FormatException("only little-endian ELF64 is supported");

        long shoff = (long)U64(image, 0x28);
        int shentsize = U16(image, 0x3A);
        int shnum = U16(image, 0x3C);
        var found = new List<int>();
        for (int i = 0; i < shnum; i++)
        {
            int sh = (int)(shoff + (long)i * shentsize);
            if (U32(image, sh + 4) != ShtGnuVerneed) continue;
            int need = (int)U64(image, sh + 0x18);
            uint count = U32(image, sh + 0x2C); // sh_info: number of Elf64_Verneed entries
            int strtab = (int)(shoff + (long)U32(image, sh + 0x28) * shentsize); // sh_link: .dynstr
            int strOffset = (int)U64(image, strtab + 0x18);

            for (uint n = 0; n < count; n++)
            {
                ushort auxCount = U16(image, need + 2);
                if (CString(image, strOffset + (int)U32(image, need + 4)) == file)
                {
                    int aux = need + (int)U32(image, need + 8);
                    for (int a = 0; a < auxCount; a++)
                    {
                        if (CString(image, strOffset + (int)U32(image, aux + 8)) == versionName) found.Add(aux + 4);
                        uint auxNext = U32(image, aux + 12);
                        if (auxNext == 0) break;
                        aux += (int)auxNext;
                    }
                }
                uint next = U32(image, need + 12);
                if (next == 0) break;
                need += (int)next;
            }
        }
        return found;
    }

    /// <summary>Whether the machine's libstdc++.so.6 defines the given symbol version.</summary>
    public static bool SystemLibstdcxxHas(string versionName)
    {
        string[] candidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        };
        byte[] needle = Encoding.ASCII.GetBytes(versionName + "\0");
        foreach (string c in candidates)
        {
            if (!File.Exists(c)) continue;
            return IndexOf(File.ReadAllBytes(c), needle) >= 0; // version names sit NUL-terminated in .dynstr
        }
        return false; // no libstdc++ where expected: patching is harmless, and loading would fail without it
    }

    static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i <= haystack.Length - needle.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }

    static ushort U16(byte[] b, int o) => (ushort)(b[o] | b[o + 1] << 8);
    static uint U32(byte[] b, int o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
    static ulong U64(byte[] b, int o) => U32(b, o) | (ulong)U32(b, o + 4) << 32;

    static string CString(byte[] b, int o)
    {
        int end = o;
        while (b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, o, end - o);
    }
}
