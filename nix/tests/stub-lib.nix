# A small stand-in for nixpkgs' `lib`, enough to evaluate nix/module.nix on a machine that has
# nix-instantiate but no nixpkgs checkout (Debian's nix-bin, no network). It implements only what
# the module and its tests use, plus a tiny module system of our own (`evalModules`): option
# declarations, definitions from several modules, mkIf / mkMerge / mkOverride pushed down through
# attribute sets the way the real module system does (so `mkIf config.x.enable { ... }` does not
# recurse into itself), priorities, defaults, type checks and merges.
#
# It is NOT nixpkgs: a module that evaluates here can still fail there (and the other way round).
# The NixOS VM test in nix/tests/cluster.nix is the check against the real thing.
let
  b = builtins;

  isType = t: v: b.isAttrs v && (v._type or null) == t;

  lib = rec {
    # ---------------------------------------------------------------- lists, strings, attrs
    inherit (b) elem filter map length head tail attrNames attrValues concatStringsSep
      isAttrs isList isString isBool isInt isFunction toJSON fromJSON hasAttr any all
      listToAttrs genList replaceStrings;

    foldl' = b.foldl';
    concatMap = f: l: b.concatLists (b.map f l);
    concatLists = b.concatLists;
    optional = c: x: if c then [ x ] else [ ];
    optionals = c: l: if c then l else [ ];
    optionalString = c: s: if c then s else "";
    optionalAttrs = c: a: if c then a else { };
    concatMapStringsSep = sep: f: l: b.concatStringsSep sep (b.map f l);
    mapAttrs = b.mapAttrs;
    mapAttrsToList = f: a: b.map (n: f n a.${n}) (b.attrNames a);
    filterAttrs = p: a: b.listToAttrs (b.concatMap (n: if p n a.${n} then [ { name = n; value = a.${n}; } ] else [ ]) (b.attrNames a));
    nameValuePair = name: value: { inherit name value; };
    genAttrs = names: f: b.listToAttrs (b.map (n: { name = n; value = f n; }) names);
    zipAttrsWith = f: sets: b.zipAttrsWith f sets;
    hasPrefix = p: s: b.substring 0 (b.stringLength p) s == p;
    removePrefix = p: s: if hasPrefix p s then b.substring (b.stringLength p) (b.stringLength s) s else s;
    hasInfix = infix: s:
      let n = b.stringLength infix; m = b.stringLength s; in
      n <= m && b.any (i: b.substring i n s == infix) (b.genList (i: i) (m - n + 1));
    unique = l: b.foldl' (acc: x: if b.elem x acc then acc else acc ++ [ x ]) [ ] l;
    findFirst = p: d: l: let m = b.filter p l; in if m == [ ] then d else b.head m;
    count = p: l: b.length (b.filter p l);
    toList = x: if b.isList x then x else [ x ];
    id = x: x;
    attrByPath = path: d: set:
      if path == [ ] then set
      else if b.isAttrs set && set ? ${b.head path} then attrByPath (b.tail path) d set.${b.head path}
      else d;
    hasAttrByPath = path: set: attrByPath path null set != null;
    recursiveUpdate = lhs: rhs:
      b.zipAttrsWith
        (n: vs: if b.length vs == 2 && b.isAttrs (b.elemAt vs 0) && b.isAttrs (b.elemAt vs 1)
                then recursiveUpdate (b.elemAt vs 0) (b.elemAt vs 1)
                else b.elemAt vs (b.length vs - 1))
        [ lhs rhs ];
    showOption = loc: b.concatStringsSep "." loc;
    fakeHash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    literalExpression = text: { _type = "literalExpression"; inherit text; };

    # ---------------------------------------------------------------- properties
    mkIf = condition: content: { _type = "if"; inherit condition content; };
    mkMerge = contents: { _type = "merge"; inherit contents; };
    mkOverride = priority: content: { _type = "override"; inherit priority content; };
    mkDefault = mkOverride 1000;
    mkForce = mkOverride 50;
    defaultPriority = 100;

    # ---------------------------------------------------------------- options
    mkOption = attrs: { _type = "option"; } // attrs;
    mkEnableOption = what: mkOption {
      type = types.bool;
      default = false;
      description = "Whether to enable ${what}.";
    };

    # ---------------------------------------------------------------- types
    # A type: { name; description; check : value -> bool; merge : loc -> [value] -> value }.
    # `merge` receives plain values: properties (mkIf ...) are already discharged by mergeDefs.
    mkType = { name, description ? name, check ? (_: true), merge ? mergeEqual }:
      { _type = "type"; inherit name description check merge; };

    mergeEqual = loc: defs:
      let first = b.head defs; in
      if b.all (d: d == first) defs then first
      else throw "The option `${showOption loc}' has conflicting definitions: ${b.toJSON defs}.";

    types = rec {
      bool = mkType { name = "bool"; description = "boolean"; check = b.isBool; };
      int = mkType { name = "int"; description = "signed integer"; check = b.isInt; };
      port = mkType {
        name = "port";
        description = "16 bit unsigned integer";
        check = v: b.isInt v && v >= 0 && v <= 65535;
      };
      str = mkType { name = "str"; description = "string"; check = b.isString; };
      lines = mkType {
        name = "lines";
        description = "strings concatenated with \"\\n\"";
        check = b.isString;
        merge = _: defs: b.concatStringsSep "\n" defs;
      };
      path = mkType {
        name = "path";
        description = "absolute path";
        check = v: (b.isPath v) || (b.isString v && hasPrefix "/" v) || (b.isAttrs v && v ? outPath);
      };
      package = mkType {
        name = "package";
        description = "package";
        check = v: (b.isAttrs v && v ? outPath) || (b.isString v && hasPrefix "/" v);
      };
      strMatching = re: mkType {
        name = "strMatching";
        description = "string matching the pattern ${re}";
        check = v: b.isString v && b.match re v != null;
      };
      enum = values: mkType {
        name = "enum";
        description = "one of ${b.concatStringsSep ", " (b.map b.toJSON values)}";
        check = v: b.elem v values;
      };
      nullOr = t: mkType {
        name = "nullOr";
        description = "null or ${t.description}";
        check = v: v == null || t.check v;
        merge = loc: defs:
          let nonNull = b.filter (d: d != null) defs; in
          if nonNull == [ ] then null
          else if b.length nonNull != b.length defs
          then throw "The option `${showOption loc}' is defined both null and not null."
          else t.merge loc nonNull;
      };
      listOf = t: mkType {
        name = "listOf";
        description = "list of ${t.description}";
        check = b.isList;
        merge = loc: defs:
          let
            elems = b.concatLists defs;
            checked = b.genList
              (i: let v = b.elemAt elems i; in
                if t.check v then t.merge (loc ++ [ "[${b.toString i}]" ]) [ v ]
                else throw "The option `${showOption loc}' has an element ${b.toJSON v} that is not a ${t.description}.")
              (b.length elems);
          in checked;
      };
      attrsOf = t: mkType {
        name = "attrsOf";
        description = "attribute set of ${t.description}";
        check = b.isAttrs;
        # Each definition may itself be an mkIf/mkMerge tree: push it down to the attributes first.
        merge = loc: defs:
          let pushed = b.map pushDown defs; in
          dropUndefined (b.zipAttrsWith (n: vs: mergeDefs (loc ++ [ n ]) t vs) pushed);
      };
      attrs = mkType {
        name = "attrs";
        description = "attribute set";
        check = b.isAttrs;
        merge = _: defs: b.foldl' (a: d: a // d) { } defs;
      };
      # Any value: attribute sets merge recursively, lists concatenate, anything else must agree.
      anything = mkType {
        name = "anything";
        description = "anything";
        merge = loc: defs:
          if b.all (d: b.isAttrs d && !(d ? outPath) && !(d ? _type)) defs
          then dropUndefined (b.zipAttrsWith (n: vs: mergeDefs (loc ++ [ n ]) anything vs) defs)
          else if b.all b.isList defs then b.concatLists defs
          else mergeEqual loc defs;
      };
      # A submodule: a module (attribute set or function) evaluated once per value.
      submodule = module: mkType {
        name = "submodule";
        description = "submodule";
        check = v: b.isAttrs v || b.isFunction v;
        merge = loc: defs:
          (evalModules {
            modules = [ module ] ++ b.map (d: { config = d; }) defs;
            prefix = loc;
          }).config;
      };
    };

    # ---------------------------------------------------------------- the module system
    # Turns a value whose top may be mkIf / mkMerge / mkOverride into a plain attribute set whose
    # values carry those properties. Only attribute *names* are looked at, never conditions, which
    # is what lets a module guard its whole config with `mkIf config.services.x.enable`.
    pushDown = v:
      if isType "if" v then b.mapAttrs (_: x: mkIf v.condition x) (pushDown v.content)
      else if isType "merge" v then b.zipAttrsWith (_: vs: mkMerge vs) (b.map pushDown v.contents)
      else if isType "override" v then b.mapAttrs (_: x: mkOverride v.priority x) (pushDown v.content)
      else if b.isAttrs v then v
      else throw "expected an attribute set of definitions, got ${b.typeOf v}";

    # One definition with its properties evaluated: a list of { priority; value; }.
    discharge = v:
      if isType "if" v then (if v.condition then discharge v.content else [ ])
      else if isType "merge" v then b.concatMap discharge v.contents
      else if isType "override" v then b.map (d: d // { priority = v.priority; }) (discharge v.content)
      else [ { priority = defaultPriority; value = v; } ];

    # All definitions of one value: keep the highest priority (lowest number), check, merge.
    mergeDefs = loc: type: raw:
      let
        defs = b.concatMap discharge raw;
        best = b.foldl' (p: d: if d.priority < p then d.priority else p) 10000 defs;
        chosen = b.map (d: d.value) (b.filter (d: d.priority == best) defs);
        bad = b.filter (v: !(type.check v)) chosen;
      in
        if defs == [ ] then undefinedValue
        else if bad != [ ]
        then throw "The option `${showOption loc}' is not of type ${type.description}: ${b.toJSON (b.head bad)}."
        else type.merge loc chosen;

    isOption = isType "option";

    # What mergeDefs answers when every definition was switched off by mkIf.
    undefinedValue = { _type = "undefined"; };
    isUndefined = isType "undefined";
    dropUndefined = set: filterAttrs (_: v: !(isUndefined v)) set;

    # Merges option declarations of several modules into one tree.
    mergeDecls = loc: a: c:
      b.zipAttrsWith
        (n: vs:
          if b.length vs == 1 then b.head vs
          else if b.any isOption vs
          then throw "The option `${showOption (loc ++ [ n ])}' is declared more than once."
          else b.foldl' (x: y: mergeDecls (loc ++ [ n ]) x y) { } vs)
        [ a c ];

    evalModules = { modules, specialArgs ? { }, prefix ? [ ] }:
      let
        args = specialArgs // { inherit lib config options; };
        load = m:
          let
            raw = if b.isPath m || b.isString m then import m else m;
            v = if b.isFunction raw then raw args else raw;
            structured = v ? options || v ? config || v ? imports;
          in {
            imports = v.imports or [ ];
            options = if structured then v.options or { } else { };
            config = if structured then v.config or { } else b.removeAttrs v [ "imports" ];
          };
        collect = ms: b.concatMap (m: let l = load m; in [ l ] ++ collect l.imports) ms;
        loaded = collect modules;
        options = b.foldl' (mergeDecls prefix) { } (b.map (l: l.options) loaded);

        evalTree = loc: decl: defs:
          if isOption decl then evalOption loc decl defs
          else
            let
              pushed = b.map pushDown defs;
              unknown = b.filter (n: !(decl ? ${n})) (unique (b.concatMap b.attrNames pushed));
            in
              if unknown != [ ]
              then throw "The option `${showOption (loc ++ [ (b.head unknown) ])}' does not exist."
              else b.mapAttrs
                (n: sub: evalTree (loc ++ [ n ]) sub (b.concatMap (p: if p ? ${n} then [ p.${n} ] else [ ]) pushed))
                decl;

        evalOption = loc: opt: defs:
          let merged = mergeDefs loc opt.type defs; in
          if isUndefined merged
          then (if opt ? default then opt.default
                else throw "The option `${showOption loc}' is used but not defined.")
          else merged;

        config = evalTree prefix options (b.map (l: l.config) loaded);
      in { inherit config options; };
  };
in lib
