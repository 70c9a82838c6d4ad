namespace SparseCircuits.Data;

/// <summary>
/// The words the simple-Python generator (<see cref="SyntheticPython"/>) builds its names and
/// strings from. Kept disjoint from the task generators' pools (a test checks it), so the task
/// prompts use names the model has only met in real code, and the tasks keep measuring whether
/// an idiom generalises rather than whether a template was memorised.
/// </summary>
internal static class SyntheticPools
{
    /// <summary>Nouns with their plurals, themed so that programs read like small domain scripts.</summary>
    public static readonly (string One, string Many)[] Things =
    [
        ("apple", "apples"), ("banana", "bananas"), ("cherry", "cherries"), ("melon", "melons"), ("grape", "grapes"),
        ("animal", "animals"), ("bird", "birds"), ("fish", "fishes"), ("horse", "horses"), ("tiger", "tigers"),
        ("planet", "planets"), ("star", "stars"), ("comet", "comets"), ("moon", "moons"), ("rocket", "rockets"),
        ("room", "rooms"), ("door", "doors"), ("chair", "chairs"), ("table_row", "table_rows"), ("lamp", "lamps"),
        ("team", "teams"), ("quiz", "quizzes"), ("goal", "goals"), ("match_day", "match_days"), ("round", "rounds"),
        ("dish", "dishes"), ("recipe", "recipes"), ("meal", "meals"), ("spice", "spices"), ("cake", "cakes"),
        ("car", "cars"), ("tram", "trams"), ("bike", "bikes"), ("route", "routes"), ("stop", "stops"),
        ("town", "towns"), ("street", "streets"), ("river", "rivers"), ("island", "islands"), ("country", "countries"),
        ("pupil", "pupils"), ("teacher", "teachers"), ("lesson", "lessons"), ("grade", "grades"), ("course", "courses"),
        ("coin", "coins"), ("wallet", "wallets"), ("bill", "bills"), ("loan", "loans"), ("budget", "budgets"),
        ("plant", "plants"), ("flower", "flowers"), ("seed_pack", "seed_packs"), ("bush", "bushes"), ("leaf", "leaves"),
        ("memo", "memos"), ("chapter", "chapters"), ("poem", "poems"), ("story", "stories"), ("verse", "verses"),
        ("sensor", "sensors"), ("signal", "signals"), ("pixel", "pixels"), ("sound", "sounds"), ("wave", "waves"),
        ("guest", "guests"), ("friend", "friends"), ("visitor", "visitors"), ("owner", "owners"), ("pet", "pets"),
        ("box_id", "box_ids"), ("toy", "toys"), ("gift", "gifts"), ("parcel", "parcels"), ("shelf", "shelves"),
        ("storm", "storms"), ("cloud", "clouds"), ("season", "seasons"), ("week", "weeks"), ("minute", "minutes"),
    ];

    /// <summary>Adjectives and qualifiers that prefix names: <c>big_apples</c>, <c>old_town</c>.</summary>
    public static readonly string[] Qualifiers =
    [
        "big", "small", "aged", "young", "red", "blue", "green", "fast", "slow", "hot", "cold", "tall", "short", "happy",
        "lucky", "main", "next", "prev", "extra", "spare", "full", "half", "top", "bottom", "inner", "outer", "raw",
        "neat", "fresh", "daily", "weekly", "lost", "saved", "ajar", "closed", "odd", "even", "sorted_", "unique",
    ];

    /// <summary>Names of counts and measures.</summary>
    public static readonly string[] Measures =
    [
        "total_cost", "num_apples", "steps_taken", "max_speed", "min_temp", "sum_so_far", "price_each", "points_won",
        "hits", "misses", "tries", "laps", "stock", "volume", "distance", "weight_kg", "score_total", "votes", "victories",
        "losses_count", "calories", "minutes_left", "days_left", "capacity", "population", "altitude", "brightness",
        "counter_a", "counter_b", "budget_left", "tax", "discount", "bonus", "fuel", "energy", "health", "level_num",
    ];

    /// <summary>Verbs for function names, combined with a thing: <c>count_apples</c>, <c>feed_pet</c>.</summary>
    public static readonly string[] Actions =
    [
        "tally", "feed", "paint", "cook", "plant", "water", "visit", "reserve", "inspect", "measure", "sort_by", "pick",
        "grow", "bake", "ship", "pack", "wrap", "greet", "teach", "grade", "grade_up", "order_by", "seek", "gather", "stash",
        "print_all", "describe", "recap", "double", "halve", "shuffle", "clean_up", "mix", "track", "compare",
        "mean_of", "total_of", "largest", "smallest", "shift", "rotate", "scale_up", "repeat", "display", "announce",
    ];

    /// <summary>Class names.</summary>
    public static readonly string[] Kinds =
    [
        "Garden", "Kitchen", "Bookshop", "Rocket", "Planet", "Farm", "Zoo", "Shop", "Bakery", "Classroom", "Team",
        "Athlete", "Robot", "Vehicle", "PiggyBank", "Recipe", "Playlist", "Warehouse", "Calendar", "Weather", "Island",
        "Museum", "Station", "Tournament", "Aquarium", "Hotel", "Pantry", "Greenhouse", "Orchestra", "Voyage", "Pet",
        "Wallet", "Deck", "Chessboard", "Sprite", "Abacus", "Stopwatch", "Thermostat", "Journal", "Parcel", "Tile", "Lamp",
    ];

    /// <summary>Short loop and lambda names.</summary>
    public static readonly string[] Letters = ["i", "j", "k", "s", "t", "p", "q", "u", "v", "r", "e", "d"];

    /// <summary>Words inside string literals.</summary>
    public static readonly string[] Words =
    [
        "howdy", "planet", "greetings", "goodbye", "yes", "no", "maybe", "all_set", "wrapped_up", "oops", "great", "nice", "sorry",
        "apple", "sunny", "rainy", "windy", "morning", "evening", "night", "red", "blue", "green", "yellow", "purple",
        "north", "south", "east", "west", "portside", "starboard", "up", "down", "small", "large", "medium", "tiny", "huge",
        "cat", "dog", "cow", "duck", "frog", "owl", "fox", "bear", "wolf", "lion", "mouse", "sheep", "goat", "bee",
        "tea", "coffee", "milk", "bread", "soup", "rice", "cheese", "pasta", "salad", "pie", "cookie", "honey",
        "win", "lose", "tie", "play", "stop", "go", "wait", "jump", "sprint", "walk", "swim", "fly", "sing", "dance",
        "sum", "grade_up", "cost", "nickname", "years", "stage", "round", "turn", "team", "athlete", "guest", "weekday",
    ];

    /// <summary>File name stems and extensions for <c>open(...)</c>.</summary>
    public static readonly string[] FileStems =
    [
        "memos", "tallies", "guests", "recipes", "menu", "diary", "stockroom", "planets", "animals", "grades", "tunes",
        "weather", "trips", "budget", "shopping", "orders_today", "about_me", "story", "poems", "tally",
    ];

    public static readonly string[] FileKinds = ["asc", "lst", "tab", "rec", "bak", "toml", "conf", "pkl", "bin", "sql", "tex", "rst", "sqlite", "srt", "jsonl"];

    /// <summary>
    /// Words that say a file is read (<c>incoming_menu.lst</c>) or written (<c>outbox_grades.tab</c>);
    /// the generated mode follows them. Not the task's words (input/output, src/dst, ...), so
    /// <c>with_open</c> still measures whether the model carries the idea over from real code.
    /// </summary>
    public static readonly string[] ReadFileWords = ["incoming", "inbox", "scanned", "collected", "fetched", "downloaded", "harvested"];
    public static readonly string[] WrittenFileWords = ["outgoing", "written", "outbox", "generated", "printed", "packed", "archived", "completed"];

    /// <summary>Suffixes of names that hold a file's path (<c>guests_doc</c>), folders, encodings, names for a file's lines.</summary>
    public static readonly string[] PathSuffixes = ["fn", "doc", "where", "location", "spot"];
    public static readonly string[] Folders = ["home", "shared", "backups", "notes_dir", "spool", "drafts"];
    public static readonly string[] Encodings = ["utf-8", "utf8", "ascii", "latin-1"];
    public static readonly string[] LineNames = ["ln", "row_text", "entry_line", "raw_line"];

    /// <summary>Exception types a simple program catches or raises.</summary>
    public static readonly string[] Errors = ["ValueError", "KeyError", "IndexError", "TypeError", "ZeroDivisionError", "RuntimeError"];

    /// <summary>Standard modules a simple program imports.</summary>
    public static readonly string[] Modules = ["math", "random", "string", "calendar", "collections", "itertools", "statistics", "functools"];

    /// <summary>Loop indices, dict-loop names, exception names, lambda names and class-name suffixes.</summary>
    public static readonly string[] IndexNames = ["i", "j", "ix", "jx", "pos", "slot", "step_no"];
    public static readonly string[] KeyNames = ["k", "kind", "tag_name", "label_"];
    public static readonly string[] ValueNames = ["v", "qty", "amount_", "count_"];
    /// <summary>File handles for reading and for writing (a handle named for one direction is not used for the other).</summary>
    public static readonly string[] ReadHandles = ["fd", "fh_in", "stream_in", "fobj"];
    public static readonly string[] WriteHandles = ["fd", "fh_out", "sink", "fobj"];
    public static readonly string[] ErrorNames = ["e", "err", "exc"];
    public static readonly string[] LambdaNames = ["twice", "squared", "add_one", "as_text", "is_big", "pick_one", "make_key", "size_of", "halved", "bump"];
    public static readonly string[] ClassSuffixes = ["Entry", "Group", "Set", "Info", "Card"];
}
