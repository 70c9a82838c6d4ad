using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;
using SparseCircuits.Core;

namespace SparseCircuits.Data;

/// <summary>
/// The tokenizer the rest of the project uses: text &lt;-&gt; token ids, encoding through
/// Microsoft.ML.Tokenizers. Reads our trained format (<see cref="TokenizerFiles"/>), GPT-2
/// byte-level BPE files (vocab.json + merges.txt) and the data-gym files the paper's
/// tinypython_2k ships (encoder.json + vocab.bpe, encoded exactly as tiktoken does: <see cref="DataGymBpe"/>).
/// </summary>
/// <remarks>
/// Lossless: for every well-formed string s, <c>Decode(Encode(s)) == s</c> and
/// <c>DecodeBytes(Encode(s))</c> is s in UTF-8, because the pre-tokenizer's matches tile the text
/// and every byte has a token. A string with an unpaired surrogate has no UTF-8 form, so
/// <see cref="Encode"/> rejects it rather than silently substituting U+FFFD. Text is plain:
/// <c>&lt;|endoftext|&gt;</c> written in the text is encoded as ordinary characters; the special
/// id is only ever placed by the caller (<see cref="EndOfTextId"/>). Thread-safe.
/// </remarks>
public sealed class CodeTokenizer
{
    public const string EndOfText = BpeModel.EndOfText;
    public const string TiktokenFormat = TokenizerFiles.Kind;
    public const string Gpt2Format = "gpt2_bpe";
    public const string DataGymFormat = "data_gym_bpe";

    static readonly (string Vocab, string Merges)[] Gpt2FileNames = [("vocab.json", "merges.txt"), (DataGymBpe.EncoderFile, DataGymBpe.MergesFile)];

    readonly byte[][] _tokenBytes; // by id; the special token holds its own text
    readonly Func<Tokenizer> _createBackend;
    readonly Tokenizer _backend;
    readonly ConcurrentBag<Tokenizer> _spareBackends = new();

    /// <summary>Number of ids (mergeable tokens plus special tokens); ids are 0..VocabSize-1.</summary>
    public int VocabSize => _tokenBytes.Length;

    public int EndOfTextId { get; }

    /// <summary>
    /// SHA-256 over what decides the encoding (format, pattern, special tokens, token file
    /// contents), not over paths or training stats; manifests record it to tie token shards and
    /// checkpoints to the exact tokenizer.
    /// </summary>
    public string Hash { get; }

    /// <summary><see cref="TiktokenFormat"/>, <see cref="Gpt2Format"/> or <see cref="DataGymFormat"/>.</summary>
    public string Format { get; }

    /// <summary>The files this tokenizer was loaded from (empty when built in memory).</summary>
    public IReadOnlyList<string> SourceFiles { get; private set; } = [];

    /// <summary>Copies the tokenizer's files into <paramref name="directory"/>, so it loads from there too.</summary>
    public void CopyFilesTo(string directory)
    {
        if (SourceFiles.Count == 0) throw new InvalidOperationException("this tokenizer was not loaded from files");
        Directory.CreateDirectory(directory);
        foreach (string file in SourceFiles) File.Copy(file, Path.Combine(directory, Path.GetFileName(file)), overwrite: true);
    }

    CodeTokenizer(string format, string hash, byte[][] tokenBytes, int endOfTextId, Func<Tokenizer> createBackend)
    {
        Format = format;
        Hash = hash;
        _tokenBytes = tokenBytes;
        EndOfTextId = endOfTextId;
        _createBackend = createBackend;
        _backend = createBackend();
    }

    /// <summary>
    /// Loads a tokenizer from its directory or any file in it. A directory with
    /// <c>tokenizer.meta.json</c> is ours; one with vocab.json + merges.txt is GPT-2 format; one
    /// with encoder.json + vocab.bpe is data-gym format (tiktoken's ranks). Problems are
    /// <see cref="SparseCircuitsException"/>s naming the file.
    /// </summary>
    public static CodeTokenizer Load(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new SparseCircuitsException("tokenizer path is empty");
        string full = Path.GetFullPath(path);
        string dir;
        string? fileName = null;
        if (File.Exists(full))
        {
            dir = Path.GetDirectoryName(full)!;
            fileName = Path.GetFileName(full);
        }
        else if (Directory.Exists(full))
        {
            dir = full;
        }
        else
        {
            throw new SparseCircuitsException($"tokenizer not found: {path}");
        }

        bool namesGpt2File = fileName is not null && Gpt2FileNames.Any(n => n.Vocab == fileName || n.Merges == fileName);
        if (!namesGpt2File && File.Exists(Path.Combine(dir, TokenizerFiles.MetadataFile)))
            return LoadTiktoken(dir);
        foreach (var (vocab, merges) in Gpt2FileNames)
        {
            string vocabPath = Path.Combine(dir, vocab), mergesPath = Path.Combine(dir, merges);
            bool hasVocab = File.Exists(vocabPath), hasMerges = File.Exists(mergesPath);
            if (hasVocab && hasMerges)
                return vocab == DataGymBpe.EncoderFile ? LoadDataGym(vocabPath, mergesPath) : LoadGpt2(vocabPath, mergesPath);
            if (hasVocab) throw new SparseCircuitsException($"{vocabPath} has no {merges} beside it");
            if (hasMerges) throw new SparseCircuitsException($"{mergesPath} has no {vocab} beside it");
        }
        throw new SparseCircuitsException(
            $"no tokenizer in {dir}: expected {TokenizerFiles.MetadataFile} + {TokenizerFiles.RanksFile} (circuits tokenizer train) or vocab.json + merges.txt (GPT-2 format)");
    }

    /// <summary>The tokenizer a freshly trained model gives once saved (same ids, same <see cref="Hash"/>), without touching disk.</summary>
    public static CodeTokenizer FromModel(BpeModel model)
    {
        byte[] ranks = TokenizerFiles.RanksBytes(model.Tokens);
        var specials = new Dictionary<string, int> { [EndOfText] = model.EndOfTextId };
        return FromRanks(TiktokenFormat, ranks, model.Tokens.ToArray(), model.Pattern, specials);
    }

    static CodeTokenizer LoadTiktoken(string dir)
    {
        string metaPath = Path.Combine(dir, TokenizerFiles.MetadataFile);
        var meta = Json.ReadFile<TokenizerMetadata>(metaPath);
        if (meta.Format != TokenizerFiles.Version)
            throw new SparseCircuitsException($"{metaPath}: format {meta.Format} is not supported (this build reads format {TokenizerFiles.Version})");
        if (meta.Kind != TokenizerFiles.Kind)
            throw new SparseCircuitsException($"{metaPath}: kind \"{meta.Kind}\" is not supported (expected \"{TokenizerFiles.Kind}\")");
        if (string.IsNullOrEmpty(meta.Pattern)) throw new SparseCircuitsException($"{metaPath}: pattern is missing");
        if (meta.SpecialTokens is null || !meta.SpecialTokens.ContainsKey(EndOfText))
            throw new SparseCircuitsException($"{metaPath}: special_tokens must include {EndOfText}");
        if (string.IsNullOrEmpty(meta.RanksFile) || meta.RanksFile != Path.GetFileName(meta.RanksFile))
            throw new SparseCircuitsException($"{metaPath}: ranks_file must be a file name in the same directory");

        string ranksPath = Path.Combine(dir, meta.RanksFile);
        if (!File.Exists(ranksPath)) throw new SparseCircuitsException($"file not found: {ranksPath} (named by {metaPath})");
        byte[] ranks = File.ReadAllBytes(ranksPath);
        if (Hashing.Sha256(ranks) != meta.RanksSha256)
            throw new SparseCircuitsException($"{ranksPath} does not match {metaPath}: its SHA-256 differs (edited, or mixed with another tokenizer)");
        byte[][] tokens = TokenizerFiles.ParseRanks(ranks, ranksPath);

        var specials = meta.SpecialTokens.ToDictionary(kv => kv.Key, kv => kv.Value);
        var ids = specials.Values.Order().ToArray();
        for (int i = 0; i < ids.Length; i++)
        {
            if (ids[i] != tokens.Length + i)
                throw new SparseCircuitsException($"{metaPath}: special token ids must follow the {tokens.Length} ranks of {meta.RanksFile} without gaps (got {string.Join(", ", ids)})");
        }
        if (meta.VocabSize != tokens.Length + specials.Count)
            throw new SparseCircuitsException($"{metaPath}: vocab_size is {meta.VocabSize} but the files hold {tokens.Length + specials.Count} tokens");
        var tokenizer = FromRanks(TiktokenFormat, ranks, tokens, meta.Pattern, specials);
        tokenizer.SourceFiles = [metaPath, ranksPath];
        return tokenizer;
    }

    static CodeTokenizer FromRanks(string format, byte[] ranks, byte[][] tokens, string pattern, Dictionary<string, int> specials)
    {
        var tokenBytes = new byte[tokens.Length + specials.Count][];
        tokens.CopyTo(tokenBytes, 0);
        foreach (var (text, id) in specials) tokenBytes[id] = Encoding.UTF8.GetBytes(text);
        string hash = ContentHash(format, pattern, specials, Hashing.Sha256(ranks));
        // The backend is never told about special tokens: it would map a pre-token equal to
        // "<|endoftext|>" to the special id, and text must stay plain text.
        return new CodeTokenizer(format, hash, tokenBytes, specials[EndOfText],
            () => TiktokenTokenizer.Create(new MemoryStream(ranks, writable: false), CreatePreTokenizer(pattern), null, null));
    }

    /// <summary>
    /// tinypython_2k's files: tiktoken's ranks (checked against encoder.json), the paper's
    /// pattern, and the special tokens encoder.json names (<c>&lt;|endoftext|&gt;</c> appended when
    /// it names none), which must follow the ranks without gaps.
    /// </summary>
    static CodeTokenizer LoadDataGym(string encoderPath, string mergesPath)
    {
        DataGymBpe bpe = DataGymBpe.Read(encoderPath, mergesPath);
        var specials = bpe.SpecialTokens.ToDictionary(kv => kv.Key, kv => kv.Value);
        if (!specials.ContainsKey(EndOfText)) specials[EndOfText] = bpe.Tokens.Length + specials.Count;
        var ids = specials.Values.Order().ToArray();
        for (int i = 0; i < ids.Length; i++)
            if (ids[i] != bpe.Tokens.Length + i)
                throw new SparseCircuitsException($"{encoderPath}: special token ids must follow the {bpe.Tokens.Length} mergeable tokens without gaps (got {string.Join(", ", ids)})");
        if (bpe.Tokens.Length + specials.Count > BpeTrainer.MaxVocabSize)
            throw new SparseCircuitsException($"{encoderPath}: {bpe.Tokens.Length + specials.Count} tokens is more than {BpeTrainer.MaxVocabSize}");
        var tokenizer = FromRanks(DataGymFormat, TokenizerFiles.RanksBytes(bpe.Tokens), bpe.Tokens, PreTokenizerPattern.Paper, specials);
        tokenizer.SourceFiles = [encoderPath, mergesPath];
        return tokenizer;
    }

    static CodeTokenizer LoadGpt2(string vocabPath, string mergesPath)
    {
        Dictionary<string, int> vocab;
        try
        {
            vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllBytes(vocabPath))
                ?? throw new SparseCircuitsException($"{vocabPath} is empty");
        }
        catch (JsonException e)
        {
            throw new SparseCircuitsException($"{vocabPath} is not a JSON object of token -> id: {e.Message}");
        }
        if (vocab.Count == 0) throw new SparseCircuitsException($"{vocabPath} holds no tokens");

        int size = vocab.Count;
        var tokenBytes = new byte[size][];
        foreach (var (token, id) in vocab)
        {
            if (id < 0 || id >= size)
                throw new SparseCircuitsException($"{vocabPath}: id {id} of \"{token}\" is outside 0..{size - 1} (ids must be dense)");
            if (tokenBytes[id] is not null) throw new SparseCircuitsException($"{vocabPath}: id {id} is used twice");
            tokenBytes[id] = token == EndOfText ? Encoding.UTF8.GetBytes(token)
                : ByteLevelAlphabet.Decode(token) ?? throw new SparseCircuitsException($"{vocabPath}: token \"{token}\" (id {id}) is not in GPT-2 byte-level form");
        }
        for (int b = 0; b < 256; b++)
        {
            if (!vocab.ContainsKey(ByteLevelAlphabet.Encode((byte)b).ToString()))
                throw new SparseCircuitsException($"{vocabPath}: no token for byte 0x{b:x2}, so some text could not be encoded");
        }

        int endOfTextId;
        if (!vocab.TryGetValue(EndOfText, out endOfTextId))
        {
            // Files without the special token get it appended, as tiktoken's loader expects.
            endOfTextId = size;
            tokenBytes = [.. tokenBytes, Encoding.UTF8.GetBytes(EndOfText)];
        }
        if (endOfTextId > BpeTrainer.MaxVocabSize - 1 || tokenBytes.Length > BpeTrainer.MaxVocabSize)
            throw new SparseCircuitsException($"{vocabPath}: {tokenBytes.Length} tokens is more than {BpeTrainer.MaxVocabSize}");

        var merges = ReadMerges(mergesPath, vocab);
        var specials = new Dictionary<string, int> { [EndOfText] = endOfTextId };
        string hash = ContentHash(Gpt2Format, PreTokenizerPattern.Paper, specials,
            Hashing.Sha256File(vocabPath) + "\n" + Hashing.Sha256File(mergesPath));
        Tokenizer Create() => BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            ByteLevel = true,
            PreTokenizer = CreatePreTokenizer(PreTokenizerPattern.Paper),
        });
        try
        {
            return new CodeTokenizer(Gpt2Format, hash, tokenBytes, endOfTextId, Create) { SourceFiles = [vocabPath, mergesPath] };
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            throw new SparseCircuitsException($"{vocabPath} / {mergesPath}: not a usable BPE: {e.Message}");
        }
    }

    /// <summary>
    /// A Regex instance per backend, because a Regex hands its matching state to one thread at a
    /// time and builds a new one for every match another thread asks for meanwhile.
    /// </summary>
    static RegexPreTokenizer CreatePreTokenizer(string pattern) => new(PreTokenizerPattern.CreateRegex(pattern), null);

    static List<string> ReadMerges(string mergesPath, Dictionary<string, int> vocab)
    {
        var merges = new List<string>();
        int lineNumber = 0;
        foreach (string raw in File.ReadLines(mergesPath))
        {
            lineNumber++;
            string line = raw.TrimEnd('\r');
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            string[] parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new SparseCircuitsException($"{mergesPath}:{lineNumber}: expected two tokens separated by one space");
            string merged = parts[0] + parts[1];
            if (!vocab.ContainsKey(parts[0]) || !vocab.ContainsKey(parts[1]) || !vocab.ContainsKey(merged))
                throw new SparseCircuitsException($"{mergesPath}:{lineNumber}: merge \"{line}\" uses or makes a token missing from the vocabulary");
            merges.Add(line);
        }
        return merges;
    }

    static string ContentHash(string format, string pattern, Dictionary<string, int> specials, string filesHash)
    {
        var text = new StringBuilder();
        text.Append(format).Append('\n').Append(pattern).Append('\n');
        foreach (var (name, id) in specials.OrderBy(kv => kv.Value)) text.Append(name).Append(' ').Append(id).Append('\n');
        text.Append(filesHash).Append('\n');
        return Hashing.Sha256(Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>Encodes plain text. Throws <see cref="SparseCircuitsException"/> for an unpaired surrogate.</summary>
    public int[] Encode(string text) => Encode(_backend, text);

    /// <summary>
    /// Encodes many documents in parallel, one worker per core; result i belongs to text i. Each
    /// worker has a backend of its own, reused across calls: Microsoft.ML.Tokenizers guards its
    /// piece cache with one lock, which busy threads would otherwise fight over.
    /// </summary>
    public int[][] EncodeMany(IReadOnlyList<string> texts, IProgressTask? progress = null)
    {
        var results = new int[texts.Count][];
        int next = -1;
        int workers = Math.Max(1, Math.Min(Environment.ProcessorCount, texts.Count));
        ParallelErrors.Run(() => Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, _ =>
        {
            Tokenizer backend = _spareBackends.TryTake(out var spare) ? spare : _createBackend();
            try
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < texts.Count)
                {
                    results[i] = Encode(backend, texts[i]);
                    progress?.Advance(1);
                }
            }
            finally
            {
                _spareBackends.Add(backend);
            }
        }));
        return results;
    }

    int[] Encode(Tokenizer backend, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int textBytes = Utf8Text.ByteCount(text);
        if (text.Length == 0) return [];
        var list = backend.EncodeToIds(text);
        int[] ids = list as int[] ?? [.. list];

        // A pre-tokenizer pattern that fails to match some character makes the backend skip it
        // silently; counting bytes is cheap next to encoding and turns that into an error.
        long encodedBytes = 0;
        foreach (int id in ids) encodedBytes += _tokenBytes[id].Length;
        if (encodedBytes != textBytes)
            throw new SparseCircuitsException($"the tokenizer dropped text: {encodedBytes} of {textBytes} bytes encoded (its pre-tokenizer pattern must match every character)");
        return ids;
    }

    /// <summary>The exact bytes of a token sequence (a token may hold part of a UTF-8 character).</summary>
    public byte[] DecodeBytes(ReadOnlySpan<int> ids)
    {
        int length = 0;
        foreach (int id in ids) length += TokenBytes(id).Length;
        var bytes = new byte[length];
        int at = 0;
        foreach (int id in ids)
        {
            byte[] token = _tokenBytes[id];
            token.CopyTo(bytes, at);
            at += token.Length;
        }
        return bytes;
    }

    /// <summary>
    /// The text of a token sequence. Exact for whole encodings; bytes of a UTF-8 character cut
    /// off at either end of <paramref name="ids"/> become U+FFFD. The special token decodes to
    /// its name.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids) => Encoding.UTF8.GetString(DecodeBytes(ids));

    public ReadOnlySpan<byte> TokenBytes(int id)
    {
        if ((uint)id >= (uint)_tokenBytes.Length)
            throw new SparseCircuitsException($"token id {id} is outside the vocabulary 0..{_tokenBytes.Length - 1}");
        return _tokenBytes[id];
    }

    /// <summary>
    /// A token for display: its UTF-8 text with backslash, control characters and whitespace
    /// other than space escaped (<c>\n</c>, <c>\t</c>, <c>\u{85}</c>), and bytes that are not
    /// whole UTF-8 characters as <c>\xe2</c>.
    /// </summary>
    public string TokenText(int id)
    {
        ReadOnlySpan<byte> bytes = TokenBytes(id);
        if (id == EndOfTextId) return EndOfText;
        var text = new StringBuilder(bytes.Length + 4);
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out Rune rune, out int consumed) != OperationStatus.Done)
            {
                for (int i = 0; i < consumed; i++) text.Append($"\\x{bytes[i]:x2}");
            }
            else if (rune.Value == '\\') text.Append(@"\\");
            else if (rune.Value == '\n') text.Append(@"\n");
            else if (rune.Value == '\r') text.Append(@"\r");
            else if (rune.Value == '\t') text.Append(@"\t");
            else if (rune.Value != ' ' && (Rune.IsControl(rune) || Rune.IsWhiteSpace(rune))) text.Append($"\\u{{{rune.Value:x}}}");
            else text.Append(rune.ToString());
            bytes = bytes[consumed..];
        }
        return text.ToString();
    }
}
