// ADQL 2.1 grammar (IVOA REC 2023-12-15, sec. 2 and the BNF in standards/ADQL/adql-2.1.bnf).
//
// Written from the BNF, with one deliberate simplification: the BNF's typed
// expression categories (numeric/string/geometry value expressions) are merged
// into one precedence-climbing `expr` rule. Types are checked on the typed AST
// (vo/adql/analysis.py), where the error can name the offending value; the parser
// stays SLL-friendly. Function names are regular identifiers here and are checked
// against the whitelist of ADQL functions and declared UDFs when the AST is built.
// No hexadecimal literals and no bitwise operators: ADQL 2.1 has neither.
grammar ADQL;

options { caseInsensitive = true; }

query : withClause? selectExpression ';'? EOF ;

withClause : WITH withQuery (',' withQuery)* ;
withQuery : identifier ('(' identifier (',' identifier)* ')')? AS '(' selectExpression ')' ;

selectExpression : querySetExpression orderByClause? offsetClause? ;

// INTERSECT binds tighter than UNION / EXCEPT (ADQL 2.1 sec. 4.6, SQL-92).
querySetExpression
    : querySetPrimary                                                  # setPrimary
    | querySetExpression INTERSECT ALL? querySetExpression             # setIntersect
    | querySetExpression op=(UNION | EXCEPT) ALL? querySetExpression   # setUnion
    ;

querySetPrimary
    : selectQuery
    | '(' selectExpression ')'
    ;

selectQuery
    : SELECT setQuantifier? (TOP UNSIGNED_INT)? selectList fromClause
      whereClause? groupByClause? havingClause?
    ;

setQuantifier : DISTINCT | ALL ;

selectList : '*' | selectItem (',' selectItem)* ;

// A bare '*' among other items is accepted (ESO queries in lyonetia X1 use it;
// PostgreSQL has the same meaning).
selectItem
    : '*'                              # allItem
    | qualifiedName '.' '*'            # starItem
    | expr (AS? identifier)?           # exprItem
    ;

fromClause : FROM tableReference (',' tableReference)* ;

tableReference
    : tablePrimary                                                          # plainTable
    | tableReference CROSS JOIN tablePrimary                                # crossJoin
    | tableReference NATURAL? joinType? JOIN tablePrimary joinSpecification? # qualifiedJoin
    ;

tablePrimary
    : qualifiedName (AS? identifier)?          # namedTable
    | '(' selectExpression ')' AS? identifier  # derivedTable
    | '(' tableReference ')'                   # parenTable
    ;

joinType : INNER | (LEFT | RIGHT | FULL) OUTER? ;

joinSpecification
    : ON searchCondition                           # joinOn
    | USING '(' identifier (',' identifier)* ')'   # joinUsing
    ;

whereClause : WHERE searchCondition ;
groupByClause : GROUP BY expr (',' expr)* ;
havingClause : HAVING searchCondition ;
orderByClause : ORDER BY orderTerm (',' orderTerm)* ;
orderTerm : expr (ASC | DESC)? ;
offsetClause : OFFSET UNSIGNED_INT ;

searchCondition
    : NOT searchCondition                          # notCondition
    | searchCondition AND searchCondition          # andCondition
    | searchCondition OR searchCondition           # orCondition
    | predicate                                    # predicateCondition
    | '(' searchCondition ')'                      # parenCondition
    ;

predicate
    : expr compOp expr                                           # comparison
    | expr NOT? BETWEEN expr AND expr                            # between
    | expr NOT? IN '(' selectExpression ')'                      # inSubquery
    | expr NOT? IN '(' expr (',' expr)* ')'                      # inList
    | expr NOT? op=(LIKE | ILIKE) expr                           # like
    | expr IS NOT? NULL                                          # isNull
    | EXISTS '(' selectExpression ')'                            # exists
    // not ADQL: a bare value where a condition belongs; parsed only to say what to write
    | expr                                                       # barePredicate
    ;

compOp : '=' | '<>' | '!=' | '<' | '>' | '<=' | '>=' ;

expr
    : op=('+' | '-') expr                          # signExpr
    | expr op=('*' | '/') expr                     # mulExpr
    | expr op=('+' | '-') expr                     # addExpr
    | expr '||' expr                               # concatExpr
    | primary                                      # primaryExpr
    ;

primary
    : literal                                                          # literalPrimary
    | CAST '(' expr AS castTarget ')'                                  # castPrimary
    | CASE expr? whenClause+ (ELSE expr)? END                          # casePrimary
    | REGULAR_ID '(' '*' ')'                                           # starCall
    | REGULAR_ID '(' (setQuantifier? expr (',' expr)*)? ')'            # functionCall
    | qualifiedName                                                    # columnPrimary
    | '(' selectExpression ')'                                         # subqueryPrimary
    | '(' expr ')'                                                     # parenPrimary
    ;

whenClause : WHEN (searchCondition | expr) THEN expr ;

castTarget : REGULAR_ID REGULAR_ID? ('(' UNSIGNED_INT ')')? ;

literal
    : STRING+          # stringLiteral
    | UNSIGNED_INT     # intLiteral
    | DECIMAL          # decimalLiteral
    | REAL             # realLiteral
    | NULL             # nullLiteral
    ;

// A column, table or qualifier: up to catalog.schema.table.column (ADQL 2.1 BNF
// <column_reference>, <table_name>); the AST builder checks the part counts.
qualifiedName : identifier ('.' identifier)* ;

identifier : REGULAR_ID | DELIMITED_ID ;

ALL : 'ALL' ; AND : 'AND' ; AS : 'AS' ; ASC : 'ASC' ; BETWEEN : 'BETWEEN' ; BY : 'BY' ;
CASE : 'CASE' ; CAST : 'CAST' ; CROSS : 'CROSS' ; DESC : 'DESC' ; DISTINCT : 'DISTINCT' ;
ELSE : 'ELSE' ; END : 'END' ; EXCEPT : 'EXCEPT' ; EXISTS : 'EXISTS' ; FROM : 'FROM' ;
FULL : 'FULL' ; GROUP : 'GROUP' ; HAVING : 'HAVING' ; ILIKE : 'ILIKE' ; IN : 'IN' ;
INNER : 'INNER' ; INTERSECT : 'INTERSECT' ; IS : 'IS' ; JOIN : 'JOIN' ; LEFT : 'LEFT' ;
LIKE : 'LIKE' ; NATURAL : 'NATURAL' ; NOT : 'NOT' ; NULL : 'NULL' ; OFFSET : 'OFFSET' ;
ON : 'ON' ; OR : 'OR' ; ORDER : 'ORDER' ; OUTER : 'OUTER' ; RIGHT : 'RIGHT' ;
SELECT : 'SELECT' ; THEN : 'THEN' ; TOP : 'TOP' ; UNION : 'UNION' ; USING : 'USING' ;
WHEN : 'WHEN' ; WHERE : 'WHERE' ; WITH : 'WITH' ;

REAL : (INT_PART ('.' DIGIT*)? | '.' DIGIT+) 'E' [+-]? DIGIT+ ;
DECIMAL : INT_PART '.' DIGIT* | '.' DIGIT+ ;
UNSIGNED_INT : INT_PART ;
STRING : '\'' (~'\'' | '\'\'')* '\'' ;
// "89x" lexes as the number 89 and the name x, as SQL does (lyonetia gavo accepts it).
REGULAR_ID : [A-Z] [A-Z0-9_]* ;
DELIMITED_ID : '"' (~'"' | '""')+ '"' ;

LINE_COMMENT : '--' ~[\r\n]* -> channel(HIDDEN) ;
WS : [ \t\r\n\f\u000B]+ -> channel(HIDDEN) ;

// Anything else is one ERROR_CHAR token so the parser reports it with its position.
ERROR_CHAR : . ;

fragment INT_PART : DIGIT+ ;
fragment DIGIT : [0-9] ;
